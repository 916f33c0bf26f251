// Package netns reaches into another network namespace from this process:
// listen or dial there, and forward TCP between it and the host. It is how
// `make run` exposes an API server and Argo CD that run in a private network
// namespace (Argo CD's controller cannot be told to bind to 127.0.0.1 only)
// on the host's 127.0.0.1, and lets them reach the host's Git remote.
//
// A socket belongs to the namespace of the thread that created it, so each
// Listen and Dial runs on a fresh OS thread that joins the namespace and is
// thrown away after. Joining needs CAP_SYS_ADMIN (root).
package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// ErrClosed is returned by a closed NS.
var ErrClosed = errors.New("netns: closed")

// NS is a network namespace, held open by a file descriptor (it stays
// reachable while NS is open even if its processes are gone).
type NS struct {
	f *os.File
}

// Open opens the network namespace at path, e.g. /proc/<pid>/ns/net.
func Open(path string) (*NS, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("netns: %w", err)
	}
	return &NS{f: f}, nil
}

// OfProcess opens the network namespace of process pid.
func OfProcess(pid int) (*NS, error) {
	return Open(fmt.Sprintf("/proc/%d/ns/net", pid))
}

// Close releases the namespace.
func (n *NS) Close() error { return n.f.Close() }

// Do runs fn on an OS thread that has joined the namespace; the thread is
// not reused afterwards (its goroutine exits locked).
func (n *NS) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with this goroutine
		fd := int(n.f.Fd())
		if fd < 0 {
			errc <- ErrClosed
			return
		}
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("netns: join %s: %w", n.f.Name(), err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// Listen opens a TCP listener inside the namespace.
func (n *NS) Listen(ctx context.Context, addr string) (net.Listener, error) {
	var ln net.Listener
	err := n.Do(func() error {
		var err error
		ln, err = (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netns: listen %s: %w", addr, err)
	}
	return ln, nil
}

// Dial connects to addr from inside the namespace. addr must be an IP
// address: name resolution would read the host's files.
func (n *NS) Dial(ctx context.Context, addr string) (net.Conn, error) {
	var c net.Conn
	err := n.Do(func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netns: dial %s: %w", addr, err)
	}
	return c, nil
}
