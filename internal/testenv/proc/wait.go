package proc

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// WaitHTTP polls url with hc (nil: http.DefaultClient; each request may
// take a second) every 50 ms until it answers 200. It fails early when p
// exits, and when ctx ends; both errors carry the end of p's log.
func WaitHTTP(ctx context.Context, hc *http.Client, url string, p *Proc) error {
	if hc == nil {
		hc = http.DefaultClient
	}
	var last string
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
		if err != nil {
			cancel()
			return fmt.Errorf("proc: %w", err)
		}
		resp, err := hc.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				cancel()
				return nil
			}
			last = resp.Status + ": " + string(body)
		} else {
			last = err.Error()
		}
		cancel()
		if err := p.Exited(); err != nil {
			return fmt.Errorf("not ready at %s: %w", url, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s (%s): %w\n%s", p.Name, url, last, ctx.Err(), p.Tail(40))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// FreePorts returns n distinct free TCP ports of 127.0.0.1. Another process
// may take one before it is used: callers retry.
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("proc: find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// RSS is the process's resident memory in bytes now (VmRSS); 0 once it has
// ended.
func (p *Proc) RSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID()))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
