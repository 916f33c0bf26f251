package reconcile

import (
	"context"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
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

// conflictingWriteBack answers a PATCH carrying an old last_updated as
// if the object had changed in NetBox since it was read (412), and serves
// the object with its current last_updated.
type conflictingWriteBack struct {
	current string
	sent    []netbox.Patch
}

func (c *conflictingWriteBack) PatchObjects(_ context.Context, _ kind.Kind, ps []netbox.Patch) (netbox.PatchResult, error) {
	var res netbox.PatchResult
	for _, p := range ps {
		c.sent = append(c.sent, p)
		if p.LastUpdated != c.current {
			res.Conflicted = append(res.Conflicted, p.ID)
		}
	}
	return res, nil
}
func (c *conflictingWriteBack) PatchFabric(context.Context, int64, map[string]any) error { return nil }
func (c *conflictingWriteBack) AddJournalEntries(context.Context, []netbox.JournalEntry) error {
	return nil
}
func (c *conflictingWriteBack) GetObject(_ context.Context, _ kind.Kind, id int64) (netbox.Object, error) {
	return netbox.Object{ID: id, Name: "vpc-1", LastUpdated: c.current}, nil
}
func (c *conflictingWriteBack) GetFabric(context.Context, int64) (netbox.Fabric, error) {
	return netbox.Fabric{}, nil
}
func (c *conflictingWriteBack) GetGitRepository(context.Context, int64) (netbox.GitRepository, error) {
	return netbox.GitRepository{}, nil
}
func (c *conflictingWriteBack) ListObjects(context.Context, kind.Kind, int64) ([]netbox.Object, error) {
	return nil, nil
}

// A write-back NetBox skipped (412: the object changed since it was read,
// usually by our own earlier write) is written once more from a fresh read
// of that object alone: no reconcile of the fabric.
func TestWriteBackConflictRereadsTheObject(t *testing.T) {
	st, err := state.New(redisenv.Start(t).Client(t), state.Options{Prefix: "t"}, prometheus.NewRegistry())
	require.NoError(t, err)
	k := state.Key{Fabric: 7, Kind: "VPC", Namespace: "default", Name: "vpc-1"}
	require.NoError(t, st.Move(t.Context(), state.Change{Key: k, To: state.Draft, NetBoxID: 1, Reason: "bad"}))
	wb := &conflictingWriteBack{current: "t2"}
	r := New(wb, nil, Defaults{}, slog.New(slog.DiscardHandler), WithStates(st), WithWriteBack(wb))
	r.writer.write(t.Context(), &wbBatch{fabric: 7, name: "f",
		patches:     map[patchKey]map[string]any{{"VPC", 1}: {"sync_error": "bad"}},
		lastUpdated: map[patchKey]string{{"VPC", 1}: "t1"}})
	require.Len(t, wb.sent, 2)
	require.Equal(t, "t1", wb.sent[0].LastUpdated)
	require.Equal(t, netbox.Patch{ID: 1, LastUpdated: "t2", Fields: map[string]any{"sync_error": "bad"}}, wb.sent[1],
		"the values NetBox does not hold yet, with the object's current last_updated")
}
