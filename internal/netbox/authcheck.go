package netbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ErrUnauthenticated: NetBox did not accept the credentials.
var ErrUnauthenticated = errors.New("netbox: credentials not accepted")

// Authenticate asks NetBox who the given credentials belong to — an
// Authorization header (a NetBox API token) and/or session cookies — and
// returns the username. The client's own token is not sent.
func (c *Client) Authenticate(ctx context.Context, authorization string, cookies []*http.Cookie) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.String()+"/api/authentication-check/", nil)
	if err != nil {
		return "", fmt.Errorf("netbox: authentication check: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("netbox: authentication check: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		_, _ = io.Copy(io.Discard, resp.Body)
		return "", ErrUnauthenticated
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("%w: authentication check: HTTP %d", ErrUnexpected, resp.StatusCode)
	}
	var u struct {
		Username string `json:"username"`
		IsActive *bool  `json:"is_active"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&u); err != nil || u.Username == "" {
		return "", fmt.Errorf("%w: authentication check: no user in the answer", ErrUnexpected)
	}
	if u.IsActive != nil && !*u.IsActive {
		return "", ErrUnauthenticated
	}
	return u.Username, nil
}
