package reconcile

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/known"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// A hint is covered by the snapshot when a run read its object at that
// version or a newer one; never a delete, a move or a hint without a
// version.
func TestInSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("needs redis-server")
	}
	ctx := context.Background()
	ks := known.New(redisenv.Start(t).Client(t), "t")
	require.NoError(t, ks.Replace(ctx, 1, nil, "fp", "c1", []known.Entry{
		{Kind: "VPC", ID: 7, Name: "v", LastUpdated: "2026-12-07T10:00:00.500000Z"}}))
	r := New(nil, nil, Defaults{}, slog.New(slog.NewTextHandler(io.Discard, nil)), WithSnapshots(ks))
	vpc := &objectKey{kind: mustKind(t, "VPC"), id: 7}
	hint := func(event, updated string) queue.Hint {
		return queue.Hint{Event: event, LastUpdated: updated, Fabric: 1}
	}
	for _, tc := range []struct {
		name  string
		one   *objectKey
		hints []queue.Hint
		want  bool
	}{
		{"older", vpc, []queue.Hint{hint("updated", "2026-12-07T10:00:00.100000Z")}, true},
		{"same", vpc, []queue.Hint{hint("updated", "2026-12-07T10:00:00.500000+00:00")}, true},
		{"newer", vpc, []queue.Hint{hint("updated", "2026-12-07T10:00:00.100000Z"), hint("updated", "2026-12-07T10:00:01Z")}, false},
		{"deleted", vpc, []queue.Hint{hint("deleted", "2026-12-07T09:00:00Z")}, false},
		{"no version", vpc, []queue.Hint{hint("updated", "")}, false},
		{"moved in", vpc, []queue.Hint{{Event: "updated", LastUpdated: "2026-12-07T09:00:00Z", Fabric: 1, PrevFabric: 2}}, false},
		{"not in the snapshot", &objectKey{kind: mustKind(t, "VPC"), id: 8}, []queue.Hint{hint("created", "2026-12-07T09:00:00Z")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, r.inSnapshot(ctx, 1, tc.one, tc.hints))
		})
	}
	require.False(t, r.inSnapshot(ctx, 2, vpc, []queue.Hint{hint("updated", "2026-12-07T09:00:00Z")}), "no snapshot")
}
