package reconcile

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/fabric"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// patchCounting is the real NetBox client with each object's PATCH
// requests and NetBox's 412s counted.
type patchCounting struct {
	*netbox.Client
	mu        sync.Mutex
	perObject map[int64]int
	conflicts atomic.Int64
}

func (c *patchCounting) PatchObjects(ctx context.Context, k kind.Kind, ps []netbox.Patch) (netbox.PatchResult, error) {
	c.mu.Lock()
	for _, p := range ps {
		c.perObject[p.ID]++
	}
	c.mu.Unlock()
	res, err := c.Client.PatchObjects(ctx, k, ps)
	c.conflicts.Add(int64(len(res.Conflicted)))
	return res, err
}

func (c *patchCounting) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.perObject {
		n += v
	}
	return n
}

// hintRecorder records every hint the reconciler queues.
type hintRecorder struct{ n atomic.Int64 }

func (h *hintRecorder) Enqueue(context.Context, queue.Hint) (queue.EnqueueResult, error) {
	h.n.Add(1)
	return queue.Queued, nil
}

// wbSetup is a fabric of n VPCs in real NetBox, a reconciler writing back
// through a counting client, its background writer on hold (batches wait
// in pending until the test writes them), and hints it queues recorded.
func wbSetup(t *testing.T, repo string, n int) (*Reconciler, *patchCounting, *hintRecorder, int64, []netbox.Object) {
	t.Helper()
	e := setup(t, repo)
	st, err := state.New(redisenv.Start(t).Client(t), state.Options{Prefix: "t"}, prometheus.NewRegistry())
	require.NoError(t, err)
	id, created := fabricOfVPCs(t, e, repo, "wb-%03d", n, 77, 1100)
	wb := &patchCounting{Client: e.nb, perObject: map[int64]int{}}
	hints := &hintRecorder{}
	rec := New(e.nb, e.rec.git, Defaults{}, slog.New(slog.NewTextHandler(io.Discard, nil)), WithStates(st), WithWriteBack(wb),
		WithOverlapCheck(e.nb, hints))
	rec.writer.running = true // batches wait: the test writes them in the order it needs
	return rec, wb, hints, id, created
}

// pendingBatch takes the batch a run left for the writer.
func pendingBatch(t *testing.T, r *Reconciler, fabric int64) *wbBatch {
	t.Helper()
	r.writer.mu.Lock()
	defer r.writer.mu.Unlock()
	b := r.writer.pending[fabric]
	require.NotNil(t, b)
	delete(r.writer.pending, fabric)
	return b
}

// A bulk of N objects, reconciled twice from overlapping views that both
// predate the write-back (the second run listed before the first run's
// PATCHes landed), is written with exactly N PATCHes and no 412: the
// second batch is decided against NetBox's answers to the first.
func TestBulkWriteBackFromStaleViewsPatchesOnce(t *testing.T) {
	const n = 40
	rec, wb, hints, id, _ := wbSetup(t, "wb-stale", n)
	ctx := t.Context()
	_, err := rec.SyncFabric(ctx, id)
	require.NoError(t, err)
	first := pendingBatch(t, rec, id)
	_, err = rec.SyncFabric(ctx, id)
	require.NoError(t, err)
	second := pendingBatch(t, rec, id)
	require.Len(t, first.patches, n)
	require.Len(t, second.patches, n, "the second run read NetBox before the first batch was written")

	rec.writer.write(ctx, first)
	rec.writer.write(ctx, second)
	require.Equal(t, n, wb.total(), "one PATCH per object")
	require.Zero(t, wb.conflicts.Load(), "no 412")
	require.Equal(t, float64(n), testutil.ToFloat64(rec.writer.patches.WithLabelValues(patchOK)))
	require.Equal(t, float64(n), testutil.ToFloat64(rec.writer.patches.WithLabelValues(patchSkipped)))

	// A third run reads what the writes left: nothing more to write.
	_, err = rec.SyncFabric(ctx, id)
	require.NoError(t, err)
	rec.writer.mu.Lock()
	third := rec.writer.pending[id]
	rec.writer.mu.Unlock()
	require.NotNil(t, third)
	rec.writer.write(ctx, third)
	require.Equal(t, n, wb.total(), "nothing more sent: NetBox holds every wanted value")
	require.Equal(t, float64(2*n), testutil.ToFloat64(rec.writer.patches.WithLabelValues(patchSkipped)))
	require.Zero(t, hints.n.Load())
}

// A real concurrent edit between a run's read and its write-back: NetBox
// refuses that object's PATCH (412); the writer re-reads it alone and
// writes it once more with its new version. No reconcile is queued: the
// edit's own webhook does that.
func TestWriteBackConflictFromARealEditQueuesNoReconcile(t *testing.T) {
	const n = 5
	rec, wb, hints, id, created := wbSetup(t, "wb-edit", n)
	ctx := t.Context()
	_, err := rec.SyncFabric(ctx, id)
	require.NoError(t, err)
	batch := pendingBatch(t, rec, id)

	edited := created[2].ID
	require.NoError(t, wb.Do(ctx, http.MethodPatch, fmt.Sprintf("%svpcs/%d/", netbox.PluginPath, edited),
		map[string]any{"labels": map[string]any{"team": "blue"}}, nil))
	rec.writer.write(ctx, batch)

	require.Equal(t, int64(1), wb.conflicts.Load(), "the edited object's PATCH met a 412")
	require.Equal(t, 2, wb.perObject[edited], "then once more, from its fresh read")
	require.Equal(t, n+1, wb.total())
	got := getVPC(t, wb.Client, edited)
	require.Equal(t, "wb-edit/managed/vpcs/wb-002.yaml", got.GitFilePath)
	require.Equal(t, "blue", got.Labels["team"], "the edit stays")
	require.Equal(t, float64(1), testutil.ToFloat64(rec.writer.patches.WithLabelValues(patchConflict)))
	require.Zero(t, hints.n.Load(), "no reconcile queued")
}

// fabricOfVPCs is a fabric named repo (its directory too) holding n VPCs
// created in one bulk request: names from nameFormat and the index,
// subnets 10.<octet>.<index>.0/24, VLANs vlanBase + index.
func fabricOfVPCs(t *testing.T, e env, repo, nameFormat string, n, octet, vlanBase int) (int64, []netbox.Object) {
	t.Helper()
	ctx := t.Context()
	id, err := fabric.EnsureFabric(ctx, e.nb, repo, map[string]any{
		"git_repository_url": e.url, "git_branch": "main", "gitops_directory": "/" + repo + "/"})
	require.NoError(t, err)
	body := make([]map[string]any, n)
	for i := range body {
		body[i] = map[string]any{"fabric": id, "name": fmt.Sprintf(nameFormat, i), "spec": map[string]any{"subnets": map[string]any{
			"default": map[string]any{"subnet": fmt.Sprintf("10.%d.%d.0/24", octet, i), "vlan": vlanBase + i}}}}
	}
	var created []netbox.Object
	require.NoError(t, e.nb.Do(ctx, http.MethodPost, netbox.PluginPath+"vpcs/", body, &created))
	require.Len(t, created, n)
	return id, created
}
