package netbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
)

// Credentials are a NetBox user's own: an Authorization header (a NetBox
// API token), or session cookies (sessionid, csrftoken). The client's own
// token is never sent with them.
type Credentials struct {
	Authorization string
	Cookies       []*http.Cookie
}

// CanViewFabric asks NetBox whether the credentials' user may view fabric
// id: GET of the fabric with them answers 200 (yes) or 404/403 (no, NetBox
// restricts the queryset to what the user may view).
func (c *Client) CanViewFabric(ctx context.Context, cr Credentials, id int64) (bool, error) {
	status, _, err := c.asUser(ctx, cr, http.MethodGet, fabricPath(id), nil)
	return allowed(status, http.StatusOK, err)
}

// CanChangeFabric asks NetBox whether the credentials' user may change
// fabric id. NetBox has no "may I" endpoint; a PATCH that cannot pass
// validation is a faithful probe. NetBoxModelViewSet answers it, in order:
// 403 without the model's change permission (or with a read-only token,
// TokenPermissions), 404 when the object is outside the queryset restricted
// to "change" with the user's object-permission constraints (get_object),
// and only then 400 from the serializer's validation ("name" may not be
// blank). So 400 means "may change this fabric"; nothing is saved, no
// change is logged and no event rule fires.
func (c *Client) CanChangeFabric(ctx context.Context, cr Credentials, id int64) (bool, error) {
	status, _, err := c.asUser(ctx, cr, http.MethodPatch, fabricPath(id), []byte(`{"name":""}`))
	return allowed(status, http.StatusBadRequest, err)
}

// ViewableFabrics lists the ids of the fabrics the credentials' user may
// view, in one call per 1000 fabrics.
func (c *Client) ViewableFabrics(ctx context.Context, cr Credentials) (map[int64]bool, error) {
	out := map[int64]bool{}
	for offset := 0; ; offset += 1000 {
		path := PluginPath + kind.Fabric.Endpoint + "?brief=1&limit=1000&offset=" + strconv.Itoa(offset)
		status, body, err := c.asUser(ctx, cr, http.MethodGet, path, nil)
		if err != nil {
			return nil, err
		}
		switch status {
		case http.StatusForbidden:
			return out, nil // no view permission on fabrics at all
		case http.StatusUnauthorized:
			return nil, ErrUnauthenticated
		}
		if status != http.StatusOK {
			return nil, fmt.Errorf("%w: fabrics of a user: HTTP %d", ErrUnexpected, status)
		}
		var p page[struct {
			ID int64 `json:"id"`
		}]
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, fmt.Errorf("%w: fabrics of a user: %w", ErrUnexpected, err)
		}
		for _, f := range p.Results {
			out[f.ID] = true
		}
		if len(p.Results) < 1000 || offset+len(p.Results) >= p.Count || offset > 100_000 {
			return out, nil
		}
	}
}

func fabricPath(id int64) string {
	return PluginPath + kind.Fabric.Endpoint + strconv.FormatInt(id, 10) + "/"
}

// allowed reads a probe's status: yes is allowed, 403/404 refused, 401
// the credentials no longer accepted, anything else unexpected.
func allowed(status, yes int, err error) (bool, error) {
	switch {
	case err != nil:
		return false, err
	case status == yes:
		return true, nil
	case status == http.StatusForbidden || status == http.StatusNotFound:
		return false, nil
	case status == http.StatusUnauthorized:
		return false, ErrUnauthenticated
	}
	return false, fmt.Errorf("%w: permission probe: HTTP %d", ErrUnexpected, status)
}

// asUser sends one request with the user's credentials only. A session
// needs Django's CSRF check on unsafe methods: the csrftoken cookie's
// value in X-CSRFToken, and NetBox's own origin.
func (c *Client) asUser(ctx context.Context, cr Credentials, method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("netbox: %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cr.Authorization != "" {
		req.Header.Set("Authorization", cr.Authorization)
	}
	for _, ck := range cr.Cookies {
		req.AddCookie(ck)
		if ck.Name == "csrftoken" && method != http.MethodGet {
			req.Header.Set("X-CSRFToken", ck.Value)
			origin := (&url.URL{Scheme: c.base.Scheme, Host: c.base.Host}).String()
			req.Header.Set("Origin", origin)
			req.Header.Set("Referer", strings.TrimSuffix(c.base.String(), "/")+"/")
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("netbox: %s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("netbox: %s %s: %w", method, path, err)
	}
	return resp.StatusCode, raw, nil
}
