package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// ResourcesPage is the body of GET /api/v1/resources.
type ResourcesPage struct {
	Count   int            `json:"count"`
	Offset  int            `json:"offset"`
	Limit   int            `json:"limit"`
	Results []state.Record `json:"results"`
}

// MaxResourcesLimit is the largest page GET /api/v1/resources serves.
const MaxResourcesLimit = 1000

// listResources answers GET /api/v1/resources?fabric=&kind=&state=&limit=&offset=.
// A NetBox caller sees only the fabrics NetBox lets it view.
func (s *Server) listResources(c echo.Context) error {
	var f state.Filter
	bad := func(msg string) error { return c.JSON(http.StatusBadRequest, map[string]string{"error": msg}) }
	if v := c.QueryParam("fabric"); v != "" {
		id, err := s.fabricOfState(c, v)
		if err != nil {
			return err
		}
		if id == 0 {
			return c.JSON(http.StatusOK, ResourcesPage{Results: []state.Record{}})
		}
		if err := s.may(c, opView, id); err != nil {
			return nil // answered
		}
		f.Fabric = id
	}
	if v := c.QueryParam("kind"); v != "" {
		k, ok := kindNamed(v)
		if !ok {
			return bad("kind: not one of the 12 Hedgehog kinds: " + v)
		}
		f.Kind = k
	}
	if v := c.QueryParam("state"); v != "" {
		ok := false
		for _, s := range state.States {
			ok = ok || string(s) == v
		}
		if !ok {
			return bad("state: not one of draft, committed, pending, synced, drifted, orphaned: " + v)
		}
		f.State = state.State(v)
	}
	limit, offset := 100, 0
	for name, p := range map[string]*int{"limit": &limit, "offset": &offset} {
		if v := c.QueryParam(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || (name == "limit" && (n == 0 || n > MaxResourcesLimit)) {
				return bad(name + ": not a valid number (limit 1.." + strconv.Itoa(MaxResourcesLimit) + ")")
			}
			*p = n
		}
	}
	var visible map[int64]bool
	if f.Fabric == 0 {
		var err error
		if visible, err = s.visible(c); err != nil {
			return nil // answered
		}
	}
	recs, err := s.States.List(c.Request().Context(), f)
	if err != nil {
		s.Logger.Error("listing object states failed", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "state store unavailable"})
	}
	if visible != nil {
		shown := recs[:0]
		for _, r := range recs {
			if visible[r.Fabric] {
				shown = append(shown, r)
			}
		}
		recs = shown
	}
	page := ResourcesPage{Count: len(recs), Offset: offset, Limit: limit, Results: []state.Record{}}
	if offset < len(recs) {
		page.Results = recs[offset:min(len(recs), offset+limit)]
	}
	return c.JSON(http.StatusOK, page)
}

// getResource answers GET /api/v1/resources/{fabric}/{kind}/{namespace}/{name}.
func (s *Server) getResource(c echo.Context) error {
	id, err := s.fabricOfState(c, c.Param("fabric"))
	if err != nil {
		return err
	}
	k, ok := kindNamed(c.Param("kind"))
	if !ok {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": "kind: not one of the 12 Hedgehog kinds"})
	}
	key := state.Key{Fabric: id, Kind: k, Namespace: c.Param("namespace"), Name: c.Param("name")}
	if id == 0 {
		return c.JSON(http.StatusNotFound, map[string]string{"error": "no such fabric"})
	}
	if err := s.may(c, opView, id); err != nil {
		return nil // answered
	}
	r, err := s.States.Get(c.Request().Context(), key)
	switch {
	case errors.Is(err, state.ErrNotFound), errors.Is(err, state.ErrBadKey):
		return c.JSON(http.StatusNotFound, map[string]string{"error": "no state recorded for " + key.String()})
	case err != nil:
		s.Logger.Error("reading object state failed", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "state store unavailable"})
	}
	return c.JSON(http.StatusOK, r)
}

// fabricOfState resolves a fabric id or name among the fabrics that have
// records; 0 when none matches. It writes the error answer itself.
func (s *Server) fabricOfState(c echo.Context, v string) (int64, error) {
	if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
		return id, nil
	}
	fabrics, err := s.States.Fabrics(c.Request().Context())
	if err != nil {
		s.Logger.Error("listing fabrics of object states failed", "err", err)
		return 0, c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "state store unavailable"})
	}
	for id, name := range fabrics {
		if name == v {
			return id, nil
		}
	}
	return 0, nil
}

// kindNamed accepts a kind's name in any case ("vpc", "VPCAttachment") or
// its plural directory ("vpcattachments").
func kindNamed(v string) (string, bool) {
	for _, k := range kind.CRs() {
		if strings.EqualFold(k.Name, v) || strings.EqualFold(k.Plural, v) {
			return k.Name, true
		}
	}
	return "", false
}
