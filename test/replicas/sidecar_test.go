package replicas

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/proc"
)

// replica is one hnp-sidecar slot: a fixed address and clone directory,
// and the process currently running there (restarted on the same ones).
type replica struct {
	name, addr string
	bin        string
	env        []string
	Logs       *proc.Buffer
	mu         sync.Mutex
	cmd        *exec.Cmd
	done       chan struct{}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// newReplica prepares a slot with env plus its own HNP_GIT_WORKDIR and
// listen address; start runs it.
func newReplica(t *testing.T, name, bin string, env map[string]string) *replica {
	t.Helper()
	r := &replica{name: name, addr: freeAddr(t), bin: bin, Logs: &proc.Buffer{}}
	r.env = []string{"PATH=" + os.Getenv("PATH"), "HNP_LISTEN_ADDR=" + r.addr, "HNP_GIT_WORKDIR=" + t.TempDir()}
	for k, v := range env {
		r.env = append(r.env, k+"="+v)
	}
	t.Cleanup(r.kill)
	t.Cleanup(func() { r.keepLogs(t) })
	return r
}

// keepLogs writes the replica's output (every process it ran) to a file
// when the test failed or HNP_REPLICAS_LOGDIR names a directory.
func (r *replica) keepLogs(t *testing.T) {
	dir := os.Getenv("HNP_REPLICAS_LOGDIR")
	if dir == "" && !t.Failed() {
		return
	}
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "hnp-replicas-logs")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("%s: logs not kept: %v", r.name, err)
		return
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.log", strings.ReplaceAll(r.addr, ":", "_"), r.name))
	if err := os.WriteFile(path, []byte(r.Logs.String()), 0o644); err != nil {
		t.Logf("%s: logs not kept: %v", r.name, err)
		return
	}
	t.Logf("%s: logs in %s", r.name, path)
}

func (r *replica) URL() string { return "http://" + r.addr }

// start runs the process and waits until /readyz answers 200.
func (r *replica) start() error {
	cmd := exec.Command(r.bin, "serve")
	cmd.Env = r.env
	cmd.Stdout, cmd.Stderr = r.Logs, r.Logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: start: %w", r.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	r.mu.Lock()
	r.cmd, r.done = cmd, done
	r.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(r.URL() + "/readyz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("%s exited during start-up", r.name)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready in 30s", r.name)
}

// kill sends SIGKILL, as a crash or an evicted pod would, and waits.
func (r *replica) kill() { r.signal(syscall.SIGKILL, 0) }

// terminate sends SIGTERM (a rolling upgrade) and waits for the exit.
func (r *replica) terminate() { r.signal(syscall.SIGTERM, 40*time.Second) }

func (r *replica) signal(sig syscall.Signal, grace time.Duration) {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	if grace > 0 {
		select {
		case <-done:
			return
		case <-time.After(grace):
			_ = cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	<-done
}
