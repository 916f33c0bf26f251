package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

// Per-fabric permissions of NetBox callers, asked of NetBox with the
// caller's own credentials and remembered for HNP_API_AUTH_CACHE_TTL
// (grants and refusals). The sidecar's own token may do everything.
const (
	opView   = "view"
	opChange = "change"
)

// errRefused: NetBox does not let the caller do this; the handler has
// answered.
var errRefused = errors.New("api: refused")

func callerOf(c echo.Context) *caller {
	if who, ok := c.Get(callerKey).(*caller); ok {
		return who
	}
	return &caller{} // no route without a guard reaches here; a stranger may nothing
}

// may reports whether the caller may op (view or change) fabric. Answers
// 403 (change) or 404 (view: NetBox hides what one may not view) and
// returns errRefused when not, 502 and an error when NetBox cannot say.
func (s *Server) may(c echo.Context, op string, fabric int64) error {
	who := callerOf(c)
	if who.own {
		return nil
	}
	ok, err := s.permitted(c.Request().Context(), who, op, fabric)
	if err != nil {
		s.Logger.Error("NetBox permission could not be checked", "op", op, "fabric_id", fabric, "err", err)
		_ = c.JSON(http.StatusBadGateway, map[string]string{"error": "NetBox could not check the permission"})
		return err
	}
	if ok {
		return nil
	}
	s.Logger.Info("refused by NetBox permissions", "netbox_user", who.user, "op", op, "fabric_id", fabric)
	if op == opChange {
		_ = c.JSON(http.StatusForbidden, map[string]string{"error": "NetBox does not let " + who.user +
			" change fabric " + strconv.FormatInt(fabric, 10)})
	} else {
		_ = c.JSON(http.StatusNotFound, map[string]string{"error": "no fabric " + strconv.FormatInt(fabric, 10) +
			" visible to " + who.user + " in NetBox"})
	}
	return errRefused
}

func (s *Server) permitted(ctx context.Context, who *caller, op string, fabric int64) (bool, error) {
	if who.user == "" {
		return false, nil
	}
	key := sha256.Sum256([]byte(string(who.key[:]) + "\x00" + op + "\x00" + strconv.FormatInt(fabric, 10)))
	if ok, known := s.permits.get(key); known {
		return ok, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	probe := s.NetBox.CanViewFabric
	if op == opChange {
		probe = s.NetBox.CanChangeFabric
	}
	ok, err := probe(ctx, who.creds, fabric)
	if errors.Is(err, netbox.ErrUnauthenticated) {
		ok, err = false, nil
	}
	if err != nil {
		return false, err
	}
	s.permits.put(key, ok)
	return ok, nil
}

// visible returns the fabrics the caller may view; nil for the sidecar's
// token (all of them).
func (s *Server) visible(c echo.Context) (map[int64]bool, error) {
	who := callerOf(c)
	if who.own {
		return nil, nil
	}
	if who.user == "" {
		return map[int64]bool{}, nil
	}
	key := sha256.Sum256([]byte(string(who.key[:]) + "\x00list"))
	if ids, known := s.lists.get(key); known {
		return ids, nil
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 10*time.Second)
	defer cancel()
	ids, err := s.NetBox.ViewableFabrics(ctx, who.creds)
	if errors.Is(err, netbox.ErrUnauthenticated) {
		ids, err = map[int64]bool{}, nil
	}
	if err != nil {
		s.Logger.Error("NetBox could not list the caller's fabrics", "err", err)
		_ = c.JSON(http.StatusBadGateway, map[string]string{"error": "NetBox could not list your fabrics"})
		return nil, err
	}
	s.lists.put(key, ids)
	return ids, nil
}
