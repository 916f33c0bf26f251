package replicas

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/build"
	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
	netboxenv "github.com/githedgehog/hnp-sidecar/internal/testenv/netbox"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

const (
	secret   = "replicas-webhook-secret-01"
	apiToken = "replicas-api-token-0123456"
	branch   = "main"
)

// size is the stream: the short version in `go test`, the long one with
// HNP_REPLICAS_LONG=1 (HNP_REPLICAS_OPS operations, default 2,400).
func size() (ops, fabrics int) {
	if os.Getenv("HNP_REPLICAS_LONG") == "" {
		return 300, 3
	}
	ops = 2400
	if v, err := strconv.Atoi(os.Getenv("HNP_REPLICAS_OPS")); err == nil && v >= 2000 {
		ops = v
	}
	return ops, 4
}

// phase is one run of the stream against n replicas.
type phase struct {
	replicas, ops, kills, terms int
	streamed, converge          time.Duration
	converged                   bool
	commits                     int
	creates, edits, deletes     int64
	opErrors                    int64
	webhooks, webhookRetries    int64 // through the proxy; retried on another replica
	webhooksRefused             int64 // no replica answered: NetBox's delivery failed
	c                           counts
}

func (p phase) throughput() float64 {
	return float64(p.ops) / (p.streamed + p.converge).Seconds()
}

// The replica stream: the same stream against one replica, then against
// three that are killed and restarted (and once restarted in turn, as a
// rolling upgrade does) while it runs. Git must equal NetBox, and no commit
// of the branch may move a VPC back, bring a deleted one back, remove a
// live one, change nothing or repeat another.
func TestReplicaStream(t *testing.T) {
	if testing.Short() {
		t.Skip("needs real NetBox, Redis and Git; skipped under -short")
	}
	nb := netboxenv.Get(t)
	admin, err := adminClient(nb)
	require.NoError(t, err)
	workers := moreRQWorkers(t)
	t.Logf("NetBox delivers webhooks with %d RQ worker(s)", workers+1)
	bin := build.Sidecar(t, "")
	px := startProxy(t)
	require.NoError(t, bootstrap(bin, nb, px.URL, secret))
	ops, nFabrics := size()

	var results []phase
	for i, n := range []int{1, 3} {
		p := runPhase(t, nb, admin, px, bin, n, ops, nFabrics, uint64(i+1))
		results = append(results, p)
	}
	for _, p := range results {
		t.Logf("%d replica(s): %d operations (%d creates, %d edits, %d deletes; %d refused by NetBox) in %s; %d SIGKILLs, %d SIGTERMs; %d commits",
			p.replicas, p.ops, p.creates, p.edits, p.deletes, p.opErrors, p.streamed.Round(time.Millisecond), p.kills, p.terms, p.commits)
		t.Logf("%d replica(s): webhooks %d delivered (%d retried on another replica, %d undeliverable)",
			p.replicas, p.webhooks, p.webhookRetries, p.webhooksRefused)
		t.Logf("%d replica(s): end-state mismatches %d (lost %d: missing %d, other seq %d; extra %d); stale %d, resurrected %d, live removed %d, empty %d, duplicate %d, merges %d, bad state records %d",
			p.replicas, p.c.mismatches(), p.c.Missing+p.c.Behind, p.c.Missing, p.c.Behind, p.c.Extra, p.c.Stale, p.c.Resurrected, p.c.Removed, p.c.Empty, p.c.Duplicate, p.c.Merges, p.c.BadState)
		conv := "never (timed out)"
		if p.converged {
			conv = p.converge.Round(time.Millisecond).String()
		}
		t.Logf("%d replica(s): converged %s after the last operation; throughput %.1f operations/s (operations → all pushed)",
			p.replicas, conv, p.throughput())
		for _, e := range p.c.examples {
			t.Logf("%d replica(s):   %s", p.replicas, e)
		}
	}
	for _, p := range results {
		require.True(t, p.converged, "%d replica(s): Git never equalled NetBox", p.replicas)
		require.Zero(t, p.c.total(), "%d replica(s): anomalies (see above)", p.replicas)
	}
}

// runPhase runs the stream once against n replicas on a fresh Redis and
// repository, with its own fabrics; it removes them from NetBox at the end.
func runPhase(t *testing.T, nb netboxenv.Env, admin nbClient, px *proxy, bin string, n, ops, nFabrics int, seed uint64) phase {
	t.Helper()
	ctx := context.Background()
	rd := redisenv.Start(t)
	srv := gitenv.Start(t)
	repoURL := srv.NewRepo(t, "replicas", branch)
	repo := srv.Dir("replicas")
	env := map[string]string{
		"HNP_REDIS_URL": rd.URL(), "HNP_WEBHOOK_SECRET": secret, "HNP_API_TOKEN": apiToken,
		"HNP_QUEUE_POLL_INTERVAL": "100ms", "HNP_NETBOX_URL": nb.URL, "HNP_NETBOX_TOKEN": nb.Token,
		"HNP_GIT_USERNAME": srv.User, "HNP_GIT_TOKEN": srv.Password,
		"HNP_GIT_DEFAULT_URL": repoURL, "HNP_GIT_ALLOW_HTTP": "true", "HNP_LOG_LEVEL": cmp.Or(os.Getenv("HNP_REPLICAS_LOG_LEVEL"), "warn"),
	}
	run := fmt.Sprintf("%d%03d", n, time.Now().UnixNano()/1e6%1000)
	fabrics := map[int64]string{}
	s := &stream{nb: admin, prefix: fmt.Sprintf("r%s-", run)}
	for i := range nFabrics {
		dir := fmt.Sprintf("f%d", i)
		var f vpc
		require.NoError(t, admin.call(http.MethodPost, plugin+"fabrics/", map[string]any{"name": fmt.Sprintf("rep-%s-%d", run, i),
			"git_repository_url": repoURL, "git_branch": branch, "gitops_directory": "/" + dir + "/",
			"watch_crd_types": []string{"VPC"}}, &f))
		fabrics[f.ID] = dir
		s.fabrics, s.dirs = append(s.fabrics, f.ID), append(s.dirs, dir)
	}

	reps := make([]*replica, n)
	urls := make([]string, n)
	for i := range reps {
		reps[i] = newReplica(t, fmt.Sprintf("replica-%d", i), bin, env)
		require.NoError(t, reps[i].start())
		urls[i] = reps[i].URL()
	}
	px.set(urls)
	defer func() {
		removeFabrics(t, admin, s)
		for _, r := range reps {
			r.terminate()
		}
		if t.Failed() {
			for _, r := range reps {
				t.Logf("%s's log (warnings and errors):\n%s", r.name, tail(r.Logs.String(), 40))
			}
		}
	}()

	p := phase{replicas: n, ops: ops}
	stop := make(chan struct{})
	var chaos sync.WaitGroup
	var kills, terms atomic.Int64
	if n > 1 {
		chaos.Add(1)
		go func() {
			defer chaos.Done()
			rng := rand.New(rand.NewPCG(seed, 99))
			rolled := false
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Duration(2000+rng.IntN(2000)) * time.Millisecond):
				}
				if !rolled && s.done.Load() >= int64(ops/2) {
					rolled = true
					for _, r := range reps { // a rolling upgrade: one at a time
						r.terminate()
						terms.Add(1)
						if err := r.start(); err != nil {
							t.Errorf("restart after SIGTERM: %v", err)
						}
					}
					continue
				}
				r := reps[rng.IntN(len(reps))]
				r.kill()
				kills.Add(1)
				time.Sleep(time.Duration(300+rng.IntN(1200)) * time.Millisecond)
				if err := r.start(); err != nil {
					t.Errorf("restart after SIGKILL: %v", err)
				}
			}
		}()
	}
	t.Logf("%d replica(s): streaming %d operations over %d fabrics into %s", n, ops, nFabrics, repo)
	px.served.Store(0)
	px.retried.Store(0)
	px.failed.Store(0)
	start := time.Now()
	s.run(ops, 4, seed)
	p.streamed = time.Since(start)
	last := time.Now()
	close(stop)
	chaos.Wait()
	p.kills, p.terms = int(kills.Load()), int(terms.Load())
	p.creates, p.edits, p.deletes, p.opErrors = s.creates.Load(), s.edits.Load(), s.deletes.Load(), s.errs.Load()
	if p.opErrors > 0 {
		t.Logf("%d replica(s): %d operations refused by NetBox, the first: %v", n, p.opErrors, s.firstErr.Load())
	}

	// Converged: the tip equals NetBox. Then quiet: no commit for 5 s.
	deadline := last.Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		c, err := endState(admin, repo, branch, fabrics)
		require.NoError(t, err)
		if c.mismatches() == 0 {
			p.converge, p.converged = time.Since(last), true
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	waitQuiet(t, repo, 5*time.Second, 2*time.Minute)
	p.webhooks, p.webhookRetries, p.webhooksRefused = px.served.Swap(0), px.retried.Swap(0), px.failed.Swap(0)
	if e := px.lastErr.Load(); e != nil && p.webhooksRefused > 0 {
		t.Logf("%d replica(s): the last undeliverable webhook: %v", n, e)
	}

	c, err := endState(admin, repo, branch, fabrics)
	require.NoError(t, err)
	p.commits, err = walk(&c, repo, branch, s.byPath())
	require.NoError(t, err)
	require.NoError(t, states(ctx, &c, admin, rd.URL(), repo, branch, fabrics))
	p.c = c
	return p
}

// waitQuiet waits until the branch has not moved for still (at most max).
func waitQuiet(t *testing.T, repo string, still, max time.Duration) {
	t.Helper()
	end := time.Now().Add(max)
	tip, since := "", time.Now()
	for time.Now().Before(end) {
		out, err := git(repo, "rev-parse", branch)
		require.NoError(t, err)
		if out != tip {
			tip, since = out, time.Now()
		} else if time.Since(since) >= still {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// removeFabrics deletes the phase's VPCs and fabrics from NetBox, so the
// next phase's replicas do not reconcile them.
func removeFabrics(t *testing.T, admin nbClient, s *stream) {
	for _, o := range s.byPath() {
		if !o.deleted {
			_ = admin.call(http.MethodDelete, fmt.Sprintf("%svpcs/%d/", plugin, o.id), nil, nil)
		}
	}
	for _, id := range s.fabrics {
		if err := admin.call(http.MethodDelete, fmt.Sprintf("%sfabrics/%d/", plugin, id), nil, nil); err != nil {
			t.Logf("removing fabric %d: %v", id, err)
		}
	}
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
