// Package redisenv starts a private, real redis-server on 127.0.0.1 for
// tests and stops it after. It installs Debian's redis-server package when
// the binary is missing and the process may do so.
package redisenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/proc"
)

// Server is a running redis-server.
type Server struct {
	Addr string
	// Password is its requirepass (and masterauth), "" for none.
	Password string
	Dir      string
	bin      string
	port     int
	proc     *proc.Proc
}

// Binary is the redis-server the server runs.
func (s *Server) Binary() string { return s.bin }

// Port is the server's TCP port.
func (s *Server) Port() int { return s.port }

// URL is the redis:// URL of the server, database 0.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Client returns a client for the server, closed when t ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Password: s.Password})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Start runs a redis-server for the duration of t. It is skipped under
// -short. Persistence is append-only with fsync on every write, as the
// project's scripts configure it, so a restart keeps what was accepted.
func Start(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real redis-server; skipped under -short")
	}
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Run(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Binary finds redis-server, installing the Debian package if missing.
func Binary() (string, error) {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	if os.Geteuid() != 0 {
		return "", errors.New("redisenv: redis-server not found; install it with: apt-get install redis-server")
	}
	out, err := exec.Command("sh", "-c",
		"(apt-get install -y -qq redis-server || (apt-get update -qq && apt-get install -y -qq redis-server)) 2>&1").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("redisenv: installing redis-server failed: %w\n%s", err, out)
	}
	return exec.LookPath("redis-server")
}

// Run starts redis-server from bin with its data in dir on a free port of
// 127.0.0.1 and waits until it answers. Restarting on the same dir reloads
// the append-only file.
func Run(bin, dir string) (*Server, error) {
	return RunOn(bin, dir, 0)
}

// RunOn is Run on a given port; 0 picks a free one.
func RunOn(bin, dir string, port int) (*Server, error) {
	return runOn(bin, dir, port, "")
}

// runOn is RunOn with a password (requirepass and masterauth; "": none)
// and extra redis-server arguments (e.g. --replicaof).
func runOn(bin, dir string, port int, password string, extra ...string) (*Server, error) {
	if password != "" {
		extra = append(extra, "--requirepass", password, "--masterauth", password)
	}
	var lastErr error
	for try := 0; try < 5; try++ {
		p := port
		if p == 0 {
			ports, err := proc.FreePorts(1)
			if err != nil {
				return nil, fmt.Errorf("redisenv: %w", err)
			}
			p = ports[0]
		}
		s, err := start(bin, dir, p, password, extra...)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if port != 0 {
			break
		}
	}
	return nil, lastErr
}

func start(bin, dir string, port int, password string, extra ...string) (*Server, error) {
	p, err := proc.Start(proc.Spec{Name: "redis-server", Path: bin, Args: append([]string{
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always",
		"--protected-mode", "yes", "--daemonize", "no", "--loglevel", "warning",
		"--logfile", filepath.Join(dir, "redis.log")}, extra...)})
	if err != nil {
		return nil, fmt.Errorf("redisenv: %w", err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Password: password, Dir: dir, bin: bin, port: port, proc: p}
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Password: password, MaxRetries: -1})
	defer func() { _ = c.Close() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return s, nil
		}
		select {
		case <-p.Done():
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			return nil, fmt.Errorf("redisenv: redis-server on port %d exited: %s", port, log)
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("redisenv: redis-server on port %d not ready: %w", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop ends the server (SIGTERM to its process group, then SIGKILL after
// 5 s) and waits for it.
func (s *Server) Stop() { s.proc.Stop(5 * time.Second) }

// Kill ends the server with SIGKILL, as a crash would.
func (s *Server) Kill() { s.proc.Kill() }
