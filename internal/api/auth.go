package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

// caller is who a request on a route that accepts NetBox credentials
// comes from: the sidecar's own token (own, full access), or a NetBox user
// (user, creds; key is the hash of creds the caches use).
type caller struct {
	own   bool
	user  string
	creds netbox.Credentials
	key   [32]byte
}

const callerKey = "hnp.caller"

// identity is NetBox's answer about credentials: the user, or refused.
type identity struct {
	user    string
	refused bool
}

// requireTokenOrNetBox admits the sidecar's own bearer token, or NetBox
// credentials that NetBox itself accepts: a NetBox API token, or a NetBox
// session cookie sent with a matching X-CSRFToken from the same origin
// (what the plugin's sync button sends once its path is routed here).
// NetBox callers are rate-limited per client address; what a route may
// show them is decided per fabric (permission.go).
func (s *Server) requireTokenOrNetBox(next echo.HandlerFunc) echo.HandlerFunc {
	own := s.requireToken(next)
	return func(c echo.Context) error {
		if s.ownToken(c.Request().Header.Get(echo.HeaderAuthorization)) || s.NetBox == nil {
			c.Set(callerKey, &caller{own: true})
			return own(c)
		}
		who, status := s.authenticate(c)
		switch status {
		case http.StatusOK:
			c.Set(callerKey, who)
			return next(c)
		case http.StatusUnauthorized:
			return own(c) // answers 401
		case http.StatusTooManyRequests:
			return nil // answered
		}
		return c.JSON(http.StatusBadGateway, map[string]string{"error": "NetBox could not check the credentials"})
	}
}

// authenticate finds the NetBox user of the request's credentials: 200
// with the caller, 401 (none, or refused), 429 (answered) or 502.
func (s *Server) authenticate(c echo.Context) (*caller, int) {
	cl := s.limits.client(c.RealIP())
	if !s.limits.allow(c, cl.requests, "requests") {
		return nil, http.StatusTooManyRequests
	}
	creds, ok := credentials(c.Request())
	if !ok {
		return nil, http.StatusUnauthorized
	}
	who := &caller{creds: creds, key: credentialKey(creds)}
	id, known := s.identities.get(who.key)
	if !known {
		if !s.limits.allow(c, cl.newCreds, "new credentials") {
			return nil, http.StatusTooManyRequests
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
		defer cancel()
		user, err := s.NetBox.Authenticate(ctx, creds.Authorization, creds.Cookies)
		switch {
		case errors.Is(err, netbox.ErrUnauthenticated):
			id = identity{refused: true}
		case err != nil:
			s.Logger.Error("NetBox credentials could not be checked", "err", err)
			return nil, http.StatusBadGateway
		default:
			id = identity{user: user}
			s.Logger.Info("request authenticated by NetBox", "netbox_user", user, "path", c.Path())
		}
		s.identities.put(who.key, id)
	}
	if id.refused {
		return nil, http.StatusUnauthorized
	}
	who.user = id.user
	return who, http.StatusOK
}

// credentials are the request's NetBox credentials: its Authorization
// header, or else its session cookie with a matching X-CSRFToken from the
// same origin.
func credentials(r *http.Request) (netbox.Credentials, bool) {
	if authz := r.Header.Get(echo.HeaderAuthorization); authz != "" {
		return netbox.Credentials{Authorization: authz}, true
	}
	session, err1 := r.Cookie("sessionid")
	csrf, err2 := r.Cookie("csrftoken")
	if err1 != nil || err2 != nil || !sameOrigin(r) ||
		subtle.ConstantTimeCompare([]byte(r.Header.Get("X-CSRFToken")), []byte(csrf.Value)) != 1 {
		return netbox.Credentials{}, false
	}
	return netbox.Credentials{Cookies: []*http.Cookie{session, csrf}}, true
}

// credentialKey hashes credentials: caches keep this, never them.
func credentialKey(cr netbox.Credentials) [32]byte {
	h := sha256.New()
	h.Write([]byte(cr.Authorization))
	for _, ck := range cr.Cookies {
		h.Write([]byte("\x00" + ck.Name + "=" + ck.Value))
	}
	var key [32]byte
	copy(key[:], h.Sum(nil))
	return key
}

func (s *Server) ownToken(authz string) bool {
	scheme, token, _ := strings.Cut(authz, " ")
	want := sha256.Sum256([]byte(s.APIToken.Reveal()))
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// sameOrigin: a cookie-authenticated POST must come from a page of the
// origin it is sent to (CSRF), as browsers say in Origin or Referer.
func sameOrigin(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" {
		src = r.Header.Get("Referer")
	}
	u, err := url.Parse(src)
	return err == nil && src != "" && u.Host == r.Host
}
