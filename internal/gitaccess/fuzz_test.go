package gitaccess

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzAllowed: Check never panics, and whatever it admits is https or ssh
// (http only when allowed), has no user information, lies under an
// allowed prefix on a segment boundary (or on an allowed host), and checks
// the same again in its canonical and its transport form, and go-git reads
// its transport form as the same host and port (what is checked is what is
// dialled).
func FuzzAllowed(f *testing.F) {
	for _, s := range []string{
		"https://github.com/acme/x.git", "git@github.com:acme/x.git", "ssh://git@github.com:22/acme/x.git",
		"https://gitlab.com/acme/x.git", "https://gitlab.com/acme-evil/x.git", "https://gitlab.com/acme/%2e%2e/x",
		"http://127.0.0.1:9999/repos/x.git", "file:///srv/x.git", "/srv/x.git", "https://u:p@github.com/a/b",
		"https://GitHub.com:443/a/b/", "ssh://[::1]:2222/r.git", "https://gitlab.com/acme.git",
		"github.com:x@evil.com:a/b", "github.com:x@evil.com:2222:a/b", "ssh://github.com/x@evil.com:a/b",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	allowed := []string{"github.com", "https://gitlab.com/acme", "ssh://code.example.org/team/", "http://127.0.0.1:9999/repos/"}
	strict, err := New(Options{Allowed: allowed[:3]})
	if err != nil {
		f.Fatal(err)
	}
	withHTTP, err := New(Options{Allowed: allowed, AllowHTTP: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string, http bool) {
		p := strict
		if http {
			p = withHTTP
		}
		r, err := p.Check(raw)
		if err != nil {
			return
		}
		canon := r.String()
		switch r.Scheme {
		case "https", "ssh":
		case "http":
			if !http {
				t.Fatalf("%q: http admitted without AllowHTTP", raw)
			}
		default:
			t.Fatalf("%q: scheme %q admitted", raw, r.Scheme)
		}
		u, err := url.Parse(canon)
		if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("%q: canonical %q has user, query or fragment (%v)", raw, canon, err)
		}
		if !underAllowed(canon, u) {
			t.Fatalf("%q: canonical %q is not under an allowed entry", raw, canon)
		}
		sameEndpoint(t, raw, r)
		for _, again := range []string{canon, r.Transport()} {
			r2, err := p.Check(again)
			if err != nil || r2.String() != canon {
				t.Fatalf("%q: %q checks as %q, %v; want %q", raw, again, r2.String(), err, canon)
			}
		}
	})
}

// underAllowed re-states the allow-list of FuzzAllowed by hand.
func underAllowed(canon string, u *url.URL) bool {
	switch {
	case u.Host == "github.com" && (u.Scheme == "https" || u.Scheme == "ssh" || u.Scheme == "http"):
		return true
	case u.Scheme == "https" && u.Host == "gitlab.com":
		return u.Path == "/acme" || u.Path == "/acme.git" || strings.HasPrefix(u.Path, "/acme/")
	case u.Scheme == "ssh" && u.Host == "code.example.org":
		return u.Path == "/team" || u.Path == "/team.git" || strings.HasPrefix(u.Path, "/team/")
	case u.Scheme == "http" && u.Host == "127.0.0.1:9999":
		return u.Path == "/repos" || u.Path == "/repos.git" || strings.HasPrefix(u.Path, "/repos/")
	}
	return false
}
