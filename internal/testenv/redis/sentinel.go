package redisenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/proc"
)

// MasterName is the name the rig's sentinels monitor the primary under.
const MasterName = "hnp-primary"

// SentinelSet is a real Sentinel deployment on 127.0.0.1: a primary,
// replicas (replicaof), and three sentinels (quorum 2) that promote a
// replica within a few seconds of the primary going away.
type SentinelSet struct {
	// Servers are the data nodes, the first started as the primary; an
	// entry is replaced when Restart runs it again.
	Servers []*Server
	// Sentinels are the sentinels' host:port.
	Sentinels []string
	bin       string
	dir       string
	opts      SentinelOptions
	sentinels []*proc.Proc
}

// SentinelOptions shape a SentinelSet.
type SentinelOptions struct {
	Replicas int
	// Password is the data nodes' requirepass (and masterauth, and the
	// sentinels' auth-pass); SentinelPassword the sentinels' requirepass.
	Password, SentinelPassword string
}

// StartSentinel runs a SentinelSet with replicas replicas for the
// duration of t. Skipped under -short.
func StartSentinel(t testing.TB, replicas int) *SentinelSet {
	t.Helper()
	return StartSentinelWith(t, SentinelOptions{Replicas: replicas})
}

// StartSentinelWith is StartSentinel with passwords.
func StartSentinelWith(t testing.TB, o SentinelOptions) *SentinelSet {
	t.Helper()
	if testing.Short() {
		t.Skip("needs real redis-server and sentinels; skipped under -short")
	}
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	s, err := RunSentinelWith(bin, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// RunSentinel starts the primary, its replicas and three sentinels with
// their data under dir, and waits until the sentinels know the replicas
// and each other (so a failover can be voted on).
func RunSentinel(bin, dir string, replicas int) (*SentinelSet, error) {
	return RunSentinelWith(bin, dir, SentinelOptions{Replicas: replicas})
}

// RunSentinelWith is RunSentinel with passwords.
func RunSentinelWith(bin, dir string, o SentinelOptions) (*SentinelSet, error) {
	replicas := o.Replicas
	s := &SentinelSet{bin: bin, dir: dir, opts: o}
	primary, err := runOn(bin, s.nodeDir(0), 0, o.Password)
	if err != nil {
		return nil, err
	}
	s.Servers = append(s.Servers, primary)
	for i := 1; i <= replicas; i++ {
		r, err := runOn(bin, s.nodeDir(i), 0, o.Password, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port()))
		if err != nil {
			s.Stop()
			return nil, err
		}
		s.Servers = append(s.Servers, r)
	}
	ports, err := proc.FreePorts(3)
	if err != nil {
		s.Stop()
		return nil, fmt.Errorf("redisenv: %w", err)
	}
	for i, port := range ports {
		if err := s.startSentinel(i, port, primary.Port()); err != nil {
			s.Stop()
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.waitReady(ctx, replicas); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *SentinelSet) nodeDir(i int) string {
	d := filepath.Join(s.dir, "node"+strconv.Itoa(i))
	_ = os.MkdirAll(d, 0o700)
	return d
}

func (s *SentinelSet) startSentinel(i, port, primaryPort int) error {
	d := filepath.Join(s.dir, "sentinel"+strconv.Itoa(i))
	if err := os.MkdirAll(d, 0o700); err != nil {
		return fmt.Errorf("redisenv: %w", err)
	}
	conf := filepath.Join(d, "sentinel.conf") // the sentinel rewrites it
	body := fmt.Sprintf(`bind 127.0.0.1
port %d
dir %s
daemonize no
logfile %s
sentinel monitor %s 127.0.0.1 %d 2
sentinel down-after-milliseconds %[4]s 1000
sentinel failover-timeout %[4]s 5000
sentinel parallel-syncs %[4]s 1
`, port, d, filepath.Join(d, "sentinel.log"), MasterName, primaryPort)
	if s.opts.Password != "" {
		body += fmt.Sprintf("sentinel auth-pass %s %s\n", MasterName, s.opts.Password)
	}
	if s.opts.SentinelPassword != "" {
		body += "requirepass " + s.opts.SentinelPassword + "\n"
	}
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return fmt.Errorf("redisenv: %w", err)
	}
	p, err := proc.Start(proc.Spec{Name: "redis-sentinel", Path: s.bin, Args: []string{conf, "--sentinel"}})
	if err != nil {
		return fmt.Errorf("redisenv: %w", err)
	}
	s.sentinels = append(s.sentinels, p)
	s.Sentinels = append(s.Sentinels, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	return nil
}

// waitReady waits until every sentinel sees the replicas and the two
// other sentinels, and every replica's link to the primary is up.
func (s *SentinelSet) waitReady(ctx context.Context, replicas int) error {
	var last error
	for ctx.Err() == nil {
		if last = s.ready(ctx, replicas); last == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("redisenv: sentinels not ready: %w", last)
}

func (s *SentinelSet) ready(ctx context.Context, replicas int) error {
	for _, a := range s.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: a, Password: s.opts.SentinelPassword, MaxRetries: -1})
		reps, err := c.Replicas(ctx, MasterName).Result()
		others, err2 := c.Sentinels(ctx, MasterName).Result()
		_ = c.Close()
		if err = errors.Join(err, err2); err != nil {
			return err
		}
		if len(reps) < replicas || len(others) < len(s.Sentinels)-1 {
			return fmt.Errorf("sentinel %s knows %d replicas and %d sentinels", a, len(reps), len(others))
		}
	}
	for _, r := range s.Servers[1:] {
		if up, err := r.linkUp(ctx); !up {
			return fmt.Errorf("replica %s: link down (%v)", r.Addr, err)
		}
	}
	return nil
}

// linkUp is whether the server is a replica whose link to its primary is up.
func (s *Server) linkUp(ctx context.Context) (bool, error) {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Password: s.Password, MaxRetries: -1})
	defer func() { _ = c.Close() }()
	info, err := c.Info(ctx, "replication").Result()
	return strings.Contains(info, "master_link_status:up"), err
}

// URL is the set's redis+sentinel:// URL (HNP_REDIS_URL), with the data
// nodes' password.
func (s *SentinelSet) URL() string {
	auth := ""
	if s.opts.Password != "" {
		auth = ":" + url.PathEscape(s.opts.Password) + "@"
	}
	return "redis+sentinel://" + auth + strings.Join(s.Sentinels, ",") + "/" + MasterName
}

// Primary asks the sentinels which server is the primary now.
func (s *SentinelSet) Primary(ctx context.Context) (*Server, error) {
	var errs []error
	for _, a := range s.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: a, Password: s.opts.SentinelPassword, MaxRetries: -1})
		hp, err := c.GetMasterAddrByName(ctx, MasterName).Result()
		_ = c.Close()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		addr := net.JoinHostPort(hp[0], hp[1])
		for _, srv := range s.Servers {
			if srv.Addr == addr {
				return srv, nil
			}
		}
		return nil, fmt.Errorf("redisenv: sentinel %s names unknown primary %s", a, addr)
	}
	return nil, fmt.Errorf("redisenv: no sentinel answered: %w", errors.Join(errs...))
}

// WaitPromotion waits until the sentinels name a primary other than old.
func (s *SentinelSet) WaitPromotion(ctx context.Context, old *Server) (*Server, error) {
	for {
		if p, err := s.Primary(ctx); err == nil && p != old {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("redisenv: no promotion: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Restart runs srv (killed or stopped) again on its port and data, in
// place in Servers; the sentinels make it a replica of the primary they
// promoted. It waits until its link to that primary is up, or until the
// sentinels name it the primary again (on a loaded machine they may fail
// back to it): either way the set has a primary and a replica again.
func (s *SentinelSet) Restart(ctx context.Context, srv *Server) (*Server, error) {
	n, err := runOn(s.bin, srv.Dir, srv.Port(), srv.Password)
	if err != nil {
		return nil, err
	}
	for i := range s.Servers {
		if s.Servers[i] == srv {
			s.Servers[i] = n
		}
	}
	for {
		if up, _ := n.linkUp(ctx); up {
			return n, nil
		}
		if p, err := s.Primary(ctx); err == nil && p.Addr == n.Addr {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return n, fmt.Errorf("redisenv: restarted %s is not a replica: %w", n.Addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop ends the sentinels, then every server.
func (s *SentinelSet) Stop() {
	proc.StopAll(s.sentinels, 5*time.Second)
	for _, srv := range s.Servers {
		srv.Stop()
	}
}

// StartReplica runs a replica of primary (replicaof) for the duration of
// t and waits until its link is up.
func StartReplica(t testing.TB, primary *Server) *Server {
	t.Helper()
	r, err := runOn(primary.bin, t.TempDir(), 0, primary.Password, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if up, _ := r.linkUp(ctx); up {
			return r
		}
		if ctx.Err() != nil {
			t.Fatalf("redisenv: replica %s: link to %s not up", r.Addr, primary.Addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Options are the options the set was started with.
func (s *SentinelSet) Options() SentinelOptions { return s.opts }
