package e2e

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// countingProxy is a reverse proxy in front of NetBox that counts the
// requests passing through it (the sidecar's, when HNP_NETBOX_URL points
// at it), reads (GET/HEAD) apart from writes, and knows when it last saw
// one. The Host header is kept, so the pagination links NetBox builds
// point back at the proxy and are counted too.
type countingProxy struct {
	URL string

	mu       sync.Mutex
	reads    int
	writes   int
	inflight int
	last     time.Time
}

func newCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Host = r.In.Host
	}}
	p := &countingProxy{last: time.Now()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p.URL = "http://" + ln.Addr().String()
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.begin(r.Method)
		defer p.end()
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return p
}

func (p *countingProxy) begin(method string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if method == http.MethodGet || method == http.MethodHead {
		p.reads++
	} else {
		p.writes++
	}
	p.inflight++
	p.last = time.Now()
}

func (p *countingProxy) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	p.last = time.Now()
}

// counts returns the reads and writes seen so far.
func (p *countingProxy) counts() (reads, writes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reads, p.writes
}

// waitQuiet waits until no request has been in flight for quiet and
// returns when the last one ended; it fails the test after timeout.
func (p *countingProxy) waitQuiet(t *testing.T, quiet, timeout time.Duration, what string, logs func() string) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		p.mu.Lock()
		idle, last, r, w := p.inflight == 0, p.last, p.reads, p.writes
		p.mu.Unlock()
		if idle && time.Since(last) >= quiet {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the sidecar never went quiet towards NetBox (no request for %s) within %s; %d reads, %d writes so far\n%s",
				what, quiet, timeout, r, w, tail(logs(), 40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
