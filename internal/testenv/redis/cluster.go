package redisenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a real Redis Cluster on 127.0.0.1: three primaries, each
// with one replica, made by redis-cli --cluster create.
type Cluster struct {
	Servers []*Server
}

// StartCluster runs a Cluster for the duration of t. Skipped under -short.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real Redis Cluster; skipped under -short")
	}
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatal("redisenv: redis-cli not found (Debian's redis-tools)")
	}
	c := &Cluster{}
	t.Cleanup(c.Stop)
	dir := t.TempDir()
	args := []string{"--cluster", "create"}
	for i := range 6 {
		d := filepath.Join(dir, "node"+strconv.Itoa(i))
		s, err := runOn(bin, mkdir(t, d), 0, "", "--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(d, "nodes.conf"),
			"--cluster-node-timeout", "2000")
		if err != nil {
			t.Fatal(err)
		}
		c.Servers = append(c.Servers, s)
		args = append(args, s.Addr)
	}
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redisenv: redis-cli --cluster create: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range c.Servers {
		for {
			rc := redis.NewClient(&redis.Options{Addr: s.Addr})
			info, _ := rc.ClusterInfo(ctx).Result()
			_ = rc.Close()
			if strings.Contains(info, "cluster_state:ok") && s.replicaReady(ctx) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("redisenv: cluster node %s not ok: %s", s.Addr, info)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return c
}

func mkdir(t testing.TB, d string) string {
	if err := os.MkdirAll(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

// Addrs are the nodes' host:port.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		out[i] = s.Addr
	}
	return out
}

// URL is the cluster's redis+cluster:// URL (HNP_REDIS_URL).
func (c *Cluster) URL() string { return "redis+cluster://" + strings.Join(c.Addrs(), ",") }

// Client is a cluster client, closed when t ends.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// Stop ends every node.
func (c *Cluster) Stop() {
	for _, s := range c.Servers {
		s.Stop()
	}
}

// Keys are every key the cluster's primaries hold, by node address.
func (c *Cluster) Keys(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	for _, s := range c.Servers {
		rc := redis.NewClient(&redis.Options{Addr: s.Addr})
		role, err := rc.Do(ctx, "role").Slice()
		if err == nil && fmt.Sprint(role[0]) == "master" {
			var keys []string
			keys, err = rc.Keys(ctx, "*").Result()
			out[s.Addr] = keys
		}
		_ = rc.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// replicaReady is whether the server is a primary, or a replica whose link
// to its primary is up.
func (s *Server) replicaReady(ctx context.Context) bool {
	rc := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer func() { _ = rc.Close() }()
	info, err := rc.Info(ctx, "replication").Result()
	return err == nil && (strings.Contains(info, "role:master") || strings.Contains(info, "master_link_status:up"))
}
