// Package e2e runs the real hnp-sidecar binary against real servers.
package e2e

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/build"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/proc"
)

// binary builds cmd/hnp-sidecar once per test run.
func binary(t *testing.T) string {
	t.Helper()
	return build.Sidecar(t, "")
}

// sidecar is one hnp-sidecar process.
type sidecar struct {
	URL  string
	Logs *proc.Buffer
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// startSidecar runs `hnp-sidecar serve` with env on a free 127.0.0.1 port
// and waits until /readyz answers 200. It is killed when t ends.
func startSidecar(t *testing.T, env map[string]string) *sidecar {
	t.Helper()
	return startSidecarAt(t, env, freeAddr(t))
}

// startSidecarAt is startSidecar on a given address, so a restarted
// process keeps the URL NetBox's webhook points at.
func startSidecarAt(t *testing.T, env map[string]string, addr string) *sidecar {
	t.Helper()
	cmd := execSidecar(t, env)
	cmd.Env = append(cmd.Env, "HNP_LISTEN_ADDR="+addr)
	s := &sidecar{URL: "http://" + addr, Logs: &proc.Buffer{}, cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.Logs, s.Logs
	require.NoError(t, cmd.Start())
	go func() { s.err = cmd.Wait(); close(s.done) }()
	t.Cleanup(func() { s.Kill() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := http.Get(s.URL + "/readyz")
		if err == nil {
			_ = r.Body.Close()
			if r.StatusCode == 200 {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("sidecar exited during start-up: %v\n%s", s.err, s.Logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sidecar not ready in time\n%s", s.Logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill ends the process with SIGKILL, as a crash would.
func (s *sidecar) Kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// Terminate sends SIGTERM and returns the exit code.
func (s *sidecar) Terminate(t *testing.T) int {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatal("sidecar did not exit after SIGTERM")
	}
	return s.cmd.ProcessState.ExitCode()
}

// waitLog waits until the log has a line containing every one of parts.
func (s *sidecar) waitLog(t *testing.T, timeout time.Duration, parts ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		for _, line := range strings.Split(s.Logs.String(), "\n") {
			if containsAll(line, parts) {
				return line
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no log line with %q in time\n%s", parts, s.Logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// execSidecar prepares `hnp-sidecar serve` with only env and PATH set.
func execSidecar(t *testing.T, env map[string]string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary(t), "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}
