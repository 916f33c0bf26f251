package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/known"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/fabric"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// readCounter is the real NetBox client with its reads counted.
type readCounter struct {
	*netbox.Client
	reads atomic.Int64
}

func (c *readCounter) GetFabric(ctx context.Context, id int64) (netbox.Fabric, error) {
	c.reads.Add(1)
	return c.Client.GetFabric(ctx, id)
}

func (c *readCounter) GetObject(ctx context.Context, k kind.Kind, id int64) (netbox.Object, error) {
	c.reads.Add(1)
	return c.Client.GetObject(ctx, k, id)
}

func (c *readCounter) GetGitRepository(ctx context.Context, id int64) (netbox.GitRepository, error) {
	c.reads.Add(1)
	return c.Client.GetGitRepository(ctx, id)
}

func (c *readCounter) ListObjects(ctx context.Context, k kind.Kind, fabric int64) ([]netbox.Object, error) {
	c.reads.Add(1)
	return c.Client.ListObjects(ctx, k, fabric)
}

// recordsOf is the fabric's state records without times and history.
func recordsOf(t *testing.T, st *state.Store, fabric int64) map[string]state.Record {
	t.Helper()
	recs, err := st.Load(context.Background(), fabric)
	require.NoError(t, err)
	for f, r := range recs {
		r.CreatedAt, r.UpdatedAt, r.CommittedAt, r.History = time.Time{}, time.Time{}, nil, nil
		recs[f] = r
	}
	return recs
}

// The property: after any sequence of single-object edits in real NetBox,
// each run incrementally where it may (else in full), a full reconcile
// finds Git and the object states already as it would make them: it
// commits nothing and records nothing. An incremental run reads NetBox at
// most three times (fabric, repository when it has one, the object).
func TestIncrementalEqualsFull(t *testing.T) {
	e := setup(t, "incremental")
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	rdb := redisenv.Start(t).Client(t)
	st, err := state.New(rdb, state.Options{Prefix: "t"}, prometheus.NewRegistry())
	require.NoError(t, err)
	w, err := gitops.New(gitops.Options{WorkDir: t.TempDir(), Access: gitAccess(t, e.srv)}, logger)
	require.NoError(t, err)
	nb := &readCounter{Client: e.nb}
	reg := prometheus.NewRegistry()
	rec := New(nb, w, Defaults{}, logger, WithStates(st), WithSnapshots(known.New(rdb, "t")), WithMetrics(reg))

	id, err := fabric.EnsureFabric(ctx, e.nb, "incr-test", map[string]any{
		"git_repository_url": e.url, "git_branch": "main", "gitops_directory": "/incr/"})
	require.NoError(t, err)
	_, err = fabric.Load(ctx, e.nb, id, fabric.Generate(fabric.SampleOptions()))
	require.NoError(t, err)
	_, err = rec.SyncFabric(ctx, id)
	require.NoError(t, err)

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 1))
	var vpcs []netbox.Object // created by the test
	attachments, err := e.nb.ListObjects(ctx, mustKind(t, "VPCAttachment"), id)
	require.NoError(t, err)
	vpcSpec := func(n int, bad bool) map[string]any {
		prefix := 24
		if bad {
			prefix = 31 // refused by the admission rules: invalid
		}
		return map[string]any{"subnets": map[string]any{"default": map[string]any{
			"subnet": fmt.Sprintf("10.%d.%d.0/%d", 100+n/200, n%200, prefix), "vlan": 1000 + n}}}
	}
	call := func(method, path string, body any, out any) {
		require.NoError(t, e.nb.Do(ctx, method, netbox.PluginPath+path, body, out), "%s %s", method, path)
	}
	incremental, full := 0, 0
	const steps = 30
	for step := range steps {
		t0 := time.Now()
		var k kind.Kind
		var oid int64
		switch op := rnd.IntN(10); {
		case op < 3 || len(vpcs) == 0: // create, valid or not
			var o netbox.Object
			call(http.MethodPost, "vpcs/", map[string]any{"fabric": id, "name": fmt.Sprintf("p-%d", step), "spec": vpcSpec(step, rnd.IntN(4) == 0)}, &o)
			vpcs = append(vpcs, o)
			k, oid = mustKind(t, "VPC"), o.ID
		case op < 6: // edit, valid or not
			o := vpcs[rnd.IntN(len(vpcs))]
			call(http.MethodPatch, fmt.Sprintf("vpcs/%d/", o.ID), map[string]any{"spec": vpcSpec(step, rnd.IntN(3) == 0)}, nil)
			k, oid = mustKind(t, "VPC"), o.ID
		case op < 7: // rename: a full run
			i := rnd.IntN(len(vpcs))
			call(http.MethodPatch, fmt.Sprintf("vpcs/%d/", vpcs[i].ID), map[string]any{"name": fmt.Sprintf("r-%d", step)}, nil)
			k, oid = mustKind(t, "VPC"), vpcs[i].ID
		case op < 8: // an attachment to a VPC that exists or not: its own validity
			a := attachments[rnd.IntN(len(attachments))]
			subnet := "vpc-1/default"
			if rnd.IntN(2) == 0 {
				subnet = "nope/default"
			}
			spec := map[string]any{"connection": a.Spec["connection"], "subnet": subnet}
			call(http.MethodPatch, fmt.Sprintf("%s%d/", mustKind(t, "VPCAttachment").Endpoint, a.ID), map[string]any{"spec": spec}, nil)
			k, oid = mustKind(t, "VPCAttachment"), a.ID
		default: // delete
			i := rnd.IntN(len(vpcs))
			call(http.MethodDelete, fmt.Sprintf("vpcs/%d/", vpcs[i].ID), nil, nil)
			k, oid = mustKind(t, "VPC"), vpcs[i].ID
			vpcs = append(vpcs[:i], vpcs[i+1:]...)
		}
		before := nb.reads.Load()
		_, err := rec.SyncObject(ctx, id, k, oid, nil)
		if errors.Is(err, ErrNeedFull) {
			full++
			_, err = rec.SyncFabric(ctx, id)
		} else {
			incremental++
			require.LessOrEqual(t, nb.reads.Load()-before, int64(3), "NetBox reads of one incremental run")
		}
		require.NoError(t, err)
		t.Logf("step %d (%s %d): %s", step, k.Name, oid, time.Since(t0).Round(time.Millisecond))
		if rnd.IntN(3) == 0 || step == steps-1 {
			recs := recordsOf(t, st, id)
			res, err := rec.SyncFabric(ctx, id)
			require.NoError(t, err)
			require.False(t, res.Committed, "step %d (seed %d): a full reconcile changed the tree the incremental runs made", step, seed)
			require.Equal(t, recs, recordsOf(t, st, id), "step %d (seed %d): a full reconcile changed object states", step, seed)
		}
	}
	t.Logf("incremental runs %d, handed over to full %d: %v", incremental, full, fallbacks(t, reg))
	require.Greater(t, incremental, full, "most single edits run incrementally")
}

func mustKind(t *testing.T, name string) kind.Kind {
	t.Helper()
	k, ok := kind.Named(name)
	require.True(t, ok)
	return k
}

// fallbacks is hnp_reconcile_full_fallbacks_total by reason.
func fallbacks(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "hnp_reconcile_full_fallbacks_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	return out
}
