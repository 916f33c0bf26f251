package gitops

import (
	"errors"
	"net"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/gitaccess"
)

// A Remote go-git would read as another host or port (a defect in the
// policy's parser) is refused before any connection, as a neutral
// refusal.
func TestEndpointMustBeTheCheckedRemote(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    gitaccess.Remote
		ok   bool
	}{
		{"https", gitaccess.Remote{Scheme: "https", Host: "git.example.com", Path: "/a/b.git"}, true},
		{"https, port", gitaccess.Remote{Scheme: "https", Host: "git.example.com", Port: "8443", Path: "/a/b.git"}, true},
		{"http, port", gitaccess.Remote{Scheme: "http", Host: "127.0.0.1", Port: "9999", Path: "/a/b.git"}, true},
		{"ssh, user", gitaccess.Remote{Scheme: "ssh", Host: "git.example.com", User: "git", Path: "/a/b.git"}, true},
		{"ssh, IPv6", gitaccess.Remote{Scheme: "ssh", Host: "[::1]", Port: "2222", Path: "/a/b.git"}, true},
		{"host hides a user", gitaccess.Remote{Scheme: "https", Host: "git.example.com@evil.com", Path: "/a/b.git"}, false},
		{"host hides a port", gitaccess.Remote{Scheme: "ssh", Host: "git.example.com:2222", Path: "/a/b.git"}, false},
		{"port not a port", gitaccess.Remote{Scheme: "https", Host: "git.example.com", Port: "x", Path: "/a/b.git"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkEndpoint(tc.r)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, gitaccess.ErrRefused)
			var n interface{ BreakerNeutral() bool }
			require.True(t, errors.As(err, &n) && n.BreakerNeutral())
		})
	}
}

// An scp-like URL with an '@' after the colon is refused (before: go-git
// dialled the host and port after the '@', as user "127.0.0.1:x", with
// the allowed host's SSH key): no connection, no breaker, no clone.
func TestSCPWithAtInPathIsRefused(t *testing.T) {
	evil, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var conns atomic.Int32
	go func() {
		for {
			c, err := evil.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			_ = c.Close()
		}
	}()
	t.Cleanup(func() { _ = evil.Close() })
	_, port, _ := net.SplitHostPort(evil.Addr().String())
	g := &recordingGuard{}
	w := policyWriter(t, gitaccess.Options{Allowed: []string{"127.0.0.1"}}, g)
	for _, u := range []string{"git.example.com:x@evil.com:a/b", "127.0.0.1:x@evil.com:a/b", "127.0.0.1:x@127.0.0.1:" + port + ":a/b"} {
		_, err := w.Apply(t.Context(), batch(u))
		require.ErrorIs(t, err, gitaccess.ErrRefused, u)
		_, _, err = w.Files(t.Context(), u, "main", "f")
		require.ErrorIs(t, err, gitaccess.ErrRefused, u)
	}
	require.Zero(t, conns.Load(), "the other port got a connection")
	require.Empty(t, g.remotes, "a breaker saw a refused URL")
	require.Empty(t, cloneDirs(t, w))
}
