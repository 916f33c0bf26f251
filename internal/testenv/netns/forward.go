package netns

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// DialFunc connects to the far side of a forward.
type DialFunc func(ctx context.Context) (net.Conn, error)

// HostDial dials addr in this process's own namespace.
func HostDial(addr string) DialFunc {
	return func(ctx context.Context) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
}

// NSDial dials addr inside n.
func NSDial(n *NS, addr string) DialFunc {
	return func(ctx context.Context) (net.Conn, error) { return n.Dial(ctx, addr) }
}

// Forward accepts connections on ln and pipes each to a connection from
// dial, both ways, until ctx ends; then it closes ln and every open
// connection and returns once all are done. onErr (may be nil) hears of
// connections that could not be forwarded (from several goroutines).
func Forward(ctx context.Context, ln net.Listener, dial DialFunc, onErr func(error)) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	open := map[net.Conn]struct{}{}
	track := func(c net.Conn, add bool) {
		mu.Lock()
		defer mu.Unlock()
		if add {
			open[c] = struct{}{}
		} else {
			delete(open, c)
		}
	}
	stop := context.AfterFunc(ctx, func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for c := range open {
			_ = c.Close()
		}
	})
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) && onErr != nil {
				onErr(err)
			}
			break
		}
		track(c, true)
		wg.Go(func() {
			defer track(c, false)
			defer func() { _ = c.Close() }()
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			far, err := dial(dctx)
			cancel()
			if err != nil {
				if ctx.Err() == nil && onErr != nil {
					onErr(err)
				}
				return
			}
			track(far, true)
			defer track(far, false)
			defer func() { _ = far.Close() }()
			pipe(c, far)
		})
	}
	_ = ln.Close()
	mu.Lock()
	for c := range open {
		_ = c.Close()
	}
	mu.Unlock()
	wg.Wait()
}

// pipe copies both ways, passing on each side's end of stream as a
// half-close, until both directions are done.
func pipe(a, b net.Conn) {
	var wg sync.WaitGroup
	one := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else {
			_ = dst.Close()
		}
	}
	wg.Go(func() { one(a, b) })
	wg.Go(func() { one(b, a) })
	wg.Wait()
}
