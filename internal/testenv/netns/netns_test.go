package netns_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/netns"
)

// privateNS starts a process in a new network namespace (loopback up) for
// the duration of t and opens its namespace.
func privateNS(t *testing.T) *netns.NS {
	t.Helper()
	if testing.Short() {
		t.Skip("creates a network namespace; skipped under -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("joining a network namespace needs root")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare(1) not found")
	}
	cmd := exec.Command("unshare", "--net", "--", "sh", "-c", "ip link set lo up && echo up && exec sleep 600")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGKILL); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "the namespace's loopback did not come up")
	require.Equal(t, "up\n", line)
	ns, err := netns.OfProcess(cmd.Process.Pid)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ns.Close() })
	return ns
}

func echo(t *testing.T, ln net.Listener) {
	t.Helper()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				line, _ := bufio.NewReader(c).ReadString('\n')
				_, _ = c.Write([]byte("echo " + line))
			}()
		}
	}()
}

func roundTrip(t *testing.T, c net.Conn) string {
	t.Helper()
	defer func() { _ = c.Close() }()
	_, err := c.Write([]byte("hello\n"))
	require.NoError(t, err)
	line, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err)
	return line
}

func TestListenAndDialInsideOnly(t *testing.T) {
	ns := privateNS(t)
	ctx := t.Context()
	ln, err := ns.Listen(ctx, "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	echo(t, ln)
	addr := ln.Addr().String()

	c, err := ns.Dial(ctx, addr)
	require.NoError(t, err)
	require.Equal(t, "echo hello\n", roundTrip(t, c))

	if hc, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		// Only if something on the host happens to use the same port.
		_ = hc.Close()
		t.Logf("port %s is also taken on the host", addr)
	}
}

func TestForwardBothWays(t *testing.T) {
	ns := privateNS(t)
	ctx, cancel := context.WithCancel(t.Context())

	// Host → namespace: a host listener forwards to a server inside.
	inside, err := ns.Listen(ctx, "127.0.0.1:0")
	require.NoError(t, err)
	echo(t, inside)
	hostLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	// Namespace → host: a listener inside forwards to a server on the host.
	hostSrv, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	echo(t, hostSrv)
	nsLn, err := ns.Listen(ctx, "127.0.0.1:0")
	require.NoError(t, err)

	var mu sync.Mutex
	var errs []error
	done := make(chan struct{}, 2)
	go func() {
		netns.Forward(ctx, hostLn, netns.NSDial(ns, inside.Addr().String()), func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() })
		done <- struct{}{}
	}()
	go func() {
		netns.Forward(ctx, nsLn, netns.HostDial(hostSrv.Addr().String()), nil)
		done <- struct{}{}
	}()

	for range 3 {
		c, err := net.Dial("tcp", hostLn.Addr().String())
		require.NoError(t, err)
		require.Equal(t, "echo hello\n", roundTrip(t, c))
		c, err = ns.Dial(ctx, nsLn.Addr().String())
		require.NoError(t, err)
		require.Equal(t, "echo hello\n", roundTrip(t, c))
	}

	// An open connection does not keep Forward from returning.
	idle, err := net.Dial("tcp", hostLn.Addr().String())
	require.NoError(t, err)
	defer func() { _ = idle.Close() }()
	cancel()
	for range 2 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Forward did not return after its context ended")
		}
	}
	mu.Lock()
	require.Empty(t, errs)
	mu.Unlock()
	_, err = net.DialTimeout("tcp", hostLn.Addr().String(), time.Second)
	require.Error(t, err, "the host listener is closed")
	_ = inside.Close()
	_ = hostSrv.Close()
}
