package reconcile

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
)

type fabricList []netbox.Fabric

func (l fabricList) ListFabrics(context.Context) ([]netbox.Fabric, error) { return l, nil }

type hintLog []queue.Hint

func (h *hintLog) Enqueue(_ context.Context, hint queue.Hint) (queue.EnqueueResult, error) {
	*h = append(*h, hint)
	return "", nil
}

type coverage map[int64]time.Time

func (c coverage) Covered(_ context.Context, fabric int64) (time.Time, error) { return c[fabric], nil }

// With several replicas, a fabric another replica reconciled a moment ago
// is not queued again by this replica's schedule.
func TestPeriodicSkipsFabricsJustCovered(t *testing.T) {
	now := time.Now()
	var got hintLog
	p := NewPeriodic(fabricList{{ID: 1}, {ID: 2}, {ID: 3}, {ID: 4}}, &got, 10*time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil))).
		WithCoverage(coverage{1: now.Add(-time.Minute), 2: now.Add(-6 * time.Minute), 4: now.Add(time.Minute)})
	n, err := p.Once(context.Background())
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.Len(t, got, 3)
	require.EqualValues(t, 2, got[0].ObjectID)
	require.EqualValues(t, 3, got[1].ObjectID)
	require.EqualValues(t, 4, got[2].ObjectID, "coverage from a clock running ahead is not trusted")
}
