package replicas

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// proxy stands in for a Kubernetes Service in front of the replicas:
// NetBox sends each webhook to one URL, the proxy hands it to the next
// replica in turn and, when that one does not answer (killed, restarting),
// to the next one. An answer (any status) is passed back as is.
type proxy struct {
	URL      string
	srv      *http.Server
	mu       sync.Mutex
	backends []string
	next     atomic.Uint64
	client   *http.Client
	served   atomic.Int64
	retried  atomic.Int64
	failed   atomic.Int64
	lastErr  atomic.Value
}

func startProxy(t *testing.T) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{URL: "http://" + l.Addr().String(),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(l) }()
	t.Cleanup(func() { _ = p.srv.Close() })
	return p
}

// set replaces the replicas' base URLs.
func (p *proxy) set(backends []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.backends = append([]string(nil), backends...)
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	backends := p.backends
	p.mu.Unlock()
	// Two rounds over the replicas: one may be restarting for a moment.
	for try := 0; try < 2*len(backends); try++ {
		if try > 0 {
			p.retried.Add(1)
			time.Sleep(50 * time.Millisecond)
		}
		b := backends[int(p.next.Add(1)%uint64(len(backends)))]
		req, err := http.NewRequestWithContext(r.Context(), r.Method, b+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			continue
		}
		req.Header = r.Header.Clone()
		resp, err := p.client.Do(req)
		if err != nil {
			p.lastErr.Store(err.Error())
			continue // dead or dying replica: the next one
		}
		out, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			continue
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(out)
		p.served.Add(1)
		return
	}
	p.failed.Add(1)
	http.Error(w, "no replica answered", http.StatusBadGateway)
}
