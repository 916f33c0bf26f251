package reconcile

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

func TestWriteBackBatchesMerge(t *testing.T) {
	vpc, _ := kind.Named("VPC")
	warn := netbox.JournalEntry{Kind: vpc, ObjectID: 1, Level: netbox.JournalWarning, Comments: "bad"}
	ok := netbox.JournalEntry{Kind: vpc, ObjectID: 2, Level: netbox.JournalSuccess, Comments: "in Git"}
	a := &wbBatch{fabric: 1, patches: map[patchKey]map[string]any{{"VPC", 1}: {"sync_error": "bad", "kubernetes_status": "error"}},
		lastUpdated: map[patchKey]string{{"VPC", 1}: "t1"},
		journal:     []netbox.JournalEntry{warn}, fabricFields: map[string]any{"sync_status": "error"}}
	b := &wbBatch{fabric: 1, name: "f", patches: map[patchKey]map[string]any{{"VPC", 1}: {"sync_error": ""}, {"VPC", 2}: {"git_file_path": "p"}},
		lastUpdated: map[patchKey]string{{"VPC", 1}: "t2", {"VPC", 2}: "t3"},
		journal:     []netbox.JournalEntry{warn, ok}, fabricFields: map[string]any{"sync_status": "synced", "desired_state_commit": "c"}}
	a.merge(b)
	require.Equal(t, map[patchKey]map[string]any{{"VPC", 1}: {"sync_error": "", "kubernetes_status": "error"}, {"VPC", 2}: {"git_file_path": "p"}}, a.patches)
	require.Equal(t, map[patchKey]string{{"VPC", 1}: "t2", {"VPC", 2}: "t3"}, a.lastUpdated, "the newest read wins")
	require.Equal(t, []netbox.JournalEntry{warn, ok}, a.journal)
	require.Equal(t, map[string]any{"sync_status": "synced", "desired_state_commit": "c"}, a.fabricFields)
	require.Equal(t, "f", a.name)
}

// conflictingWriteBack answers every PATCH as if the objects had changed
// in NetBox since they were read.
type conflictingWriteBack struct{ conflicts int }

func (c *conflictingWriteBack) PatchObjects(_ context.Context, _ kind.Kind, p []netbox.Patch) (netbox.PatchResult, error) {
	return netbox.PatchResult{Conflicts: min(c.conflicts, len(p))}, nil
}
func (c *conflictingWriteBack) PatchFabric(context.Context, int64, map[string]any) error { return nil }
func (c *conflictingWriteBack) AddJournalEntries(context.Context, []netbox.JournalEntry) error {
	return nil
}

// A write-back that had to skip objects (412: changed since read) has the
// fabric reconciled again, so the skipped values are written from a fresh
// read instead of waiting for the periodic reconcile; one that wrote
// everything does not.
func TestWriteBackConflictsRequeueTheFabric(t *testing.T) {
	for _, tc := range []struct {
		conflicts int
		want      []int64
	}{{0, nil}, {1, []int64{7}}} {
		var got []int64
		wb := &conflictingWriteBack{conflicts: tc.conflicts}
		r := New(nil, nil, Defaults{}, slog.New(slog.DiscardHandler), WithWriteBack(wb),
			WithRequeue(func(f int64) { got = append(got, f) }))
		r.writer.write(t.Context(), &wbBatch{fabric: 7, name: "f",
			patches:     map[patchKey]map[string]any{{"VPC", 1}: {"sync_error": ""}},
			lastUpdated: map[patchKey]string{{"VPC", 1}: "t1"}})
		require.Equal(t, tc.want, got, "conflicts %d", tc.conflicts)
	}
}
