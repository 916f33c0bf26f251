package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

// netboxAuth remembers credentials NetBox accepted, for a minute, so a
// button pressed twice does not ask NetBox twice.
type netboxAuth struct {
	mu   sync.Mutex
	seen map[[32]byte]time.Time
}

// requireTokenOrNetBox admits the sidecar's own bearer token, or NetBox
// credentials that NetBox itself accepts: a NetBox API token, or a NetBox
// session cookie sent with a matching X-CSRFToken from the same origin
// (what the plugin's sync button sends once its path is routed here).
func (s *Server) requireTokenOrNetBox(next echo.HandlerFunc) echo.HandlerFunc {
	own := s.requireToken(next)
	return func(c echo.Context) error {
		r := c.Request()
		authz := r.Header.Get(echo.HeaderAuthorization)
		if s.ownToken(authz) || s.NetBox == nil {
			return own(c)
		}
		var cookies []*http.Cookie
		if authz == "" {
			session, err1 := r.Cookie("sessionid")
			csrf, err2 := r.Cookie("csrftoken")
			if err1 != nil || err2 != nil || !sameOrigin(r) ||
				subtle.ConstantTimeCompare([]byte(r.Header.Get("X-CSRFToken")), []byte(csrf.Value)) != 1 {
				return own(c) // answers 401
			}
			cookies = []*http.Cookie{session, csrf}
		}
		user, err := s.netboxUser(r.Context(), authz, cookies)
		if errors.Is(err, netbox.ErrUnauthenticated) {
			return own(c)
		}
		if err != nil {
			s.Logger.Error("NetBox credentials could not be checked", "err", err)
			return c.JSON(http.StatusBadGateway, map[string]string{"error": "NetBox could not check the credentials"})
		}
		s.Logger.Info("request authenticated by NetBox", "netbox_user", user, "path", c.Path())
		return next(c)
	}
}

func (s *Server) ownToken(authz string) bool {
	scheme, token, _ := strings.Cut(authz, " ")
	want := sha256.Sum256([]byte(s.APIToken.Reveal()))
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

func (s *Server) netboxUser(ctx context.Context, authz string, cookies []*http.Cookie) (string, error) {
	h := sha256.New()
	h.Write([]byte(authz))
	for _, ck := range cookies {
		h.Write([]byte("\x00" + ck.Name + "=" + ck.Value))
	}
	var key [32]byte
	copy(key[:], h.Sum(nil))
	s.nbAuth.mu.Lock()
	if t, ok := s.nbAuth.seen[key]; ok && time.Since(t) < time.Minute {
		s.nbAuth.mu.Unlock()
		return "(cached)", nil
	}
	s.nbAuth.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	user, err := s.NetBox.Authenticate(ctx, authz, cookies)
	if err != nil {
		return "", err
	}
	s.nbAuth.mu.Lock()
	if s.nbAuth.seen == nil || len(s.nbAuth.seen) > 10000 {
		s.nbAuth.seen = map[[32]byte]time.Time{}
	}
	s.nbAuth.seen[key] = time.Now()
	s.nbAuth.mu.Unlock()
	return user, nil
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
