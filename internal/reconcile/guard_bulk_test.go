package reconcile

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/problems"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// NetBox bulk-deletes 7 of a fabric's 10 VPCs: 7 delete webhooks, 7 queue
// keys (one per object), each run holding only its own key's hint. With
// the fabric's recorded delete webhooks (known) no run is refused; with
// the run's own hint only, each was (the bug this guards against).
func TestBulkDeleteOneHintPerRun(t *testing.T) {
	s := snapshot{files: map[string]gitFile{}}
	var planned []gitops.Change
	known := map[queue.Key]bool{}
	probes := map[string]probed{}
	for i := int64(1); i <= 10; i++ {
		p := fmt.Sprintf("f/managed/vpcs/vpc-%02d.yaml", i)
		s.files[p] = gitFile{kind: vpcKind, id: i, ok: true}
		switch {
		case i <= 7:
			known[queue.NewKey(vpcKind.ObjectType(), i)] = true
			probes[p] = probed{gone: true}
		default:
			planned = append(planned, gitops.Change{Path: p})
		}
	}
	r := &Reconciler{logger: slog.New(slog.DiscardHandler)}
	f := netbox.Fabric{ID: 1, Name: "f"}
	for _, tc := range []struct {
		name    string
		known   map[queue.Key]bool
		refused int
	}{
		{"own hint only", nil, 7},
		{"recorded delete webhooks", known, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused := 0
			for i := int64(1); i <= 7; i++ {
				h := []queue.Hint{deleted(vpcKind, i)}
				ev := classify(s, planned, nil, h, tc.known, probes)
				require.Len(t, ev.removals, 7)
				if r.guard(f, ev, h) != nil {
					refused++
				}
			}
			require.Equal(t, tc.refused, refused)
		})
	}

	// A recorded delete confirms a 404 only: an object NetBox still serves
	// (found) or that moved is decided by that read.
	probes["f/managed/vpcs/vpc-01.yaml"] = probed{found: &listed{kind: vpcKind, obj: netbox.Object{ID: 1}}}
	probes["f/managed/vpcs/vpc-02.yaml"] = probed{moved: true, movedTo: 2}
	ev := classify(s, planned, nil, nil, known, probes)
	why := map[string]string{}
	for _, rm := range ev.removals {
		require.True(t, rm.confirmed, rm.path)
		why[rm.path] = rm.why
	}
	require.NotContains(t, why, "f/managed/vpcs/vpc-01.yaml")
	require.Contains(t, why["f/managed/vpcs/vpc-02.yaml"], "moved to fabric 2")
	require.Contains(t, why["f/managed/vpcs/vpc-03.yaml"], "deleted (webhook, answers 404)")
}

// bulkEnv is evEnv with a real Redis queue recording the delete webhooks
// and a reconciler that reads them, and a problems store.
type bulkEnv struct {
	evEnv
	q     *queue.Queue
	rec   *Reconciler
	probs *problems.Store
}

func newBulkEnv(t *testing.T, name string) bulkEnv {
	t.Helper()
	e := bulkEnv{evEnv: newEvEnv(t, name, 10)}
	rdb := redisenv.Start(t).Client(t)
	var err error
	opts := queue.DefaultOptions()
	opts.Prefix = "t"
	e.q, err = queue.New(rdb, opts, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	require.NoError(t, err)
	e.probs, err = problems.New(rdb, "t", prometheus.NewRegistry())
	require.NoError(t, err)
	e.rec = New(e.nb, newGitWriter(t, e.env), Defaults{}, slog.New(slog.NewTextHandler(io.Discard, nil)),
		WithProblems(e.probs), WithDeleteEvidence(e.q))
	_, err = e.rec.SyncFabric(context.Background(), e.fabric)
	require.NoError(t, err)
	require.Len(t, e.vpcFiles(t), 10)
	return e
}

// bulkDelete deletes vpc-01…vpc-07 in NetBox and returns their webhooks'
// hints, as the receiver makes them (the fabric from data.fabric).
func (e bulkEnv) bulkDelete(t *testing.T) []queue.Hint {
	t.Helper()
	var hints []queue.Hint
	for i := 1; i <= 7; i++ {
		name := fmt.Sprintf("vpc-%02d", i)
		e.deleteVPC(t, name)
		h := deleted(vpcKind, e.vpcs[name])
		h.Fabric = e.fabric
		hints = append(hints, h)
	}
	return hints
}

func (e bulkEnv) enqueue(t *testing.T, hints ...queue.Hint) {
	t.Helper()
	for _, h := range hints {
		_, err := e.q.Enqueue(context.Background(), h)
		require.NoError(t, err)
	}
}

// The realistic bulk delete: all 7 webhooks are queued (7 keys) before the
// first key runs; each run holds one hint. None is refused; the first
// removes all 7 files.
func TestBulkDeleteWebhooksAreEvidenceAcrossKeys(t *testing.T) {
	e := newBulkEnv(t, "bulk")
	ctx := context.Background()
	hints := e.bulkDelete(t)
	e.enqueue(t, hints...)
	for i, h := range hints {
		res, err := e.rec.Sync(ctx, e.fabric, []queue.Hint{h})
		require.NoError(t, err, "run %d of 7: every deleted VPC has a delete webhook", i+1)
		require.Equal(t, i == 0, res.Committed, "run %d", i+1)
	}
	require.ElementsMatch(t, []string{"vpc-00", "vpc-08", "vpc-09"}, e.vpcFiles(t))
	_, has, err := e.probs.Get(ctx, e.fabric)
	require.NoError(t, err)
	require.False(t, has)
}

// The first key runs before the other webhooks arrive: it is refused (its
// one webhook and six bare 404s); once they are queued, a later key's run
// removes the files and clears the fabric's problem.
func TestLateDeleteWebhooksUnfreezeTheFabric(t *testing.T) {
	e := newBulkEnv(t, "late")
	ctx := context.Background()
	hints := e.bulkDelete(t)
	e.enqueue(t, hints[0])
	before := e.tip(t)
	_, err := e.rec.Sync(ctx, e.fabric, hints[:1])
	requireGuard(t, err, "would remove 6 of its 10 files in Git (more than 50%)")
	require.Equal(t, before, e.tip(t), "nothing pushed")
	p, has, err := e.probs.Get(ctx, e.fabric)
	require.NoError(t, err)
	require.True(t, has)
	require.Contains(t, p.Reason, "--allow-deletes")

	e.enqueue(t, hints[1:]...)
	res, err := e.rec.Sync(ctx, e.fabric, hints[6:])
	require.NoError(t, err)
	require.True(t, res.Committed)
	require.ElementsMatch(t, []string{"vpc-00", "vpc-08", "vpc-09"}, e.vpcFiles(t))
	_, has, err = e.probs.Get(ctx, e.fabric)
	require.NoError(t, err)
	require.False(t, has, "the later success clears the problem")
}

// Without WithDeleteEvidence nothing is read from the queue: the guard
// behaves as before (the run's own hints only).
func TestNoDeleteEvidenceKeepsTheRunsHintsOnly(t *testing.T) {
	e := newBulkEnv(t, "noev")
	ctx := context.Background()
	hints := e.bulkDelete(t)
	e.enqueue(t, hints...)
	rec := New(e.nb, newGitWriter(t, e.env), Defaults{}, slog.New(slog.DiscardHandler))
	_, err := rec.Sync(ctx, e.fabric, hints[:1])
	requireGuard(t, err, "would remove 6 of its 10 files")
	_, err = rec.Sync(ctx, e.fabric, hints)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"vpc-00", "vpc-08", "vpc-09"}, e.vpcFiles(t))
}
