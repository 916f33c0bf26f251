package gitaccess

import (
	"strconv"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/stretchr/testify/require"
)

// sameEndpoint fails unless go-git reads r's transport URL as r's host and
// port: what Check admitted is what go-git dials.
func sameEndpoint(t *testing.T, raw string, r Remote) {
	t.Helper()
	ep, err := transport.NewEndpoint(r.Transport())
	if err != nil {
		t.Fatalf("%q: go-git cannot read transport %q: %v", raw, r.Transport(), err)
	}
	port := ep.Port
	if port == 0 {
		port, _ = strconv.Atoi(defaultPort[ep.Protocol])
	}
	if ep.Protocol != r.Scheme || ep.Host != r.Host || strconv.Itoa(port) != r.port() {
		t.Fatalf("%q: admitted as %s (%s:%s) but go-git dials %s://%s:%d (user %q)",
			raw, r, r.Host, r.port(), ep.Protocol, ep.Host, port, ep.User)
	}
}

// What Check admits, go-git reaches on the same host and port.
func TestGoGitReachesTheCheckedHost(t *testing.T) {
	p, err := New(Options{Allowed: []string{"git.example.com", "github.com", "[::1]:2222", "127.0.0.1:9999"}, AllowHTTP: true})
	require.NoError(t, err)
	for _, raw := range []string{
		"git.example.com:x@evil.com:a/b",
		"git.example.com:x@evil.com:2222:a/b",
		"git@git.example.com:fleet/x.git",
		"git.example.com:fleet/x.git",
		"ssh://git@git.example.com/fleet/x.git",
		"ssh://git.example.com/x@evil.com:a/b",
		"https://github.com/acme/x.git",
		"https://GitHub.com.:443/acme/x.git",
		"ssh://[::1]:2222/r.git",
		"ssh://[0:0::1]:2222/r.git",
		"http://127.0.0.1:9999/r.git",
		"git@github.com:acme/x.git",
	} {
		r, err := p.Check(raw)
		if err != nil {
			continue
		}
		sameEndpoint(t, raw, r)
	}
}
