package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/problems"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// refusingWriteBack refuses what the real plugin refuses: every fabric
// PATCH while the fabric's watch_crd_types is blank (a fabric made in its
// UI), sync_status in_sync (its database CHECK), and the objects in bad.
type refusingWriteBack struct {
	blankWatch bool
	bad        map[int64]bool
	fabric     []map[string]any // PATCHes sent
	objects    int              // object PATCHes sent
	journal    []netbox.JournalEntry
}

func apiErr(status int, body string) error {
	return &netbox.APIError{Method: "PATCH", Path: "/x/", Status: status, Body: body}
}

func (w *refusingWriteBack) PatchObjects(_ context.Context, _ kind.Kind, ps []netbox.Patch) (netbox.PatchResult, error) {
	var res netbox.PatchResult
	for _, p := range ps {
		w.objects++
		if w.bad[p.ID] {
			res.Refused = append(res.Refused, netbox.Refusal{ID: p.ID, Fields: p.Fields,
				Err: apiErr(400, `{"name":["Name must be a valid Kubernetes resource name (DNS-1123 compliant)"]}`).(*netbox.APIError)})
		}
	}
	return res, nil
}

func (w *refusingWriteBack) PatchFabric(_ context.Context, _ int64, fields map[string]any) error {
	w.fabric = append(w.fabric, fields)
	switch {
	case w.blankWatch:
		return apiErr(400, `{"watch_crd_types":["This field cannot be blank."]}`)
	case fields["sync_status"] == netbox.SyncStatusInSync:
		return &netbox.APIError{Method: "PATCH", Path: "/x/", Status: 500, Exception: "IntegrityError",
			Body: `IntegrityError: new row for relation "netbox_hedgehog_hedgehogfabric" violates check constraint "valid_sync_status"`}
	}
	return nil
}

func (w *refusingWriteBack) AddJournalEntries(_ context.Context, e []netbox.JournalEntry) error {
	w.journal = append(w.journal, e...)
	return nil
}

func refusingSetup(t *testing.T, wb *refusingWriteBack) *Reconciler {
	t.Helper()
	probs, err := problems.New(redisenv.Start(t).Client(t), "t", prometheus.NewRegistry())
	require.NoError(t, err)
	return New(nil, nil, Defaults{}, slog.New(slog.DiscardHandler), WithWriteBack(wb), WithProblems(probs))
}

// A fabric made in the plugin's UI refuses every PATCH: its status is told
// in its journal once per set of values, never sent again unchanged; once
// the fabric is edited in NetBox (its data may be fixed), it is sent again.
func TestFabricWriteBackRefusedGoesToTheJournalOnce(t *testing.T) {
	wb := &refusingWriteBack{blankWatch: true}
	r := refusingSetup(t, wb)
	batch := func(commit, updated string) *wbBatch {
		return &wbBatch{fabric: 7, name: "ui-made", patches: map[patchKey]map[string]any{}, lastUpdated: map[patchKey]string{},
			fabricUpdated: updated,
			fabricFields:  map[string]any{"sync_status": "syncing", "desired_state_commit": commit, "last_git_sync": commit + "-time"}}
	}
	for _, commit := range []string{"aaa", "aaa", "aaa", "bbb", "bbb"} {
		r.writer.write(t.Context(), batch(commit, "t1"))
	}
	require.Len(t, wb.fabric, 2, "one PATCH per set of values")
	require.Len(t, wb.journal, 2)
	require.Equal(t, kind.Fabric, wb.journal[0].Kind)
	require.Equal(t, "hnp-sidecar: GitOps status of this fabric: desired_state_commit=aaa, last_git_sync=aaa-time, sync_status=syncing. "+
		`(NetBox refused to store it in the fabric's fields: HTTP 400: {"watch_crd_types":["This field cannot be blank."]}.)`,
		wb.journal[0].Comments)
	require.Contains(t, wb.journal[1].Comments, "desired_state_commit=bbb")

	// The user fixes the fabric in NetBox: it changed, so the same values go again, and land.
	wb.blankWatch = false
	r.writer.write(t.Context(), batch("bbb", "t2"))
	require.Len(t, wb.fabric, 3)
	require.Len(t, wb.journal, 2)
	r.writer.write(t.Context(), batch("bbb", "t2"))
	require.Len(t, wb.fabric, 4, "landed: the refusal is over, nothing is held back")
}

// A value NetBox's database refuses (sync_status in_sync on the July-2025
// plugin) is left out and told once; the other fields are written, then and
// in later writes, without sending the refused value again.
func TestFabricWriteBackWritesWhatIsNotRefused(t *testing.T) {
	wb := &refusingWriteBack{}
	r := refusingSetup(t, wb)
	write := func(fields map[string]any) {
		r.writer.write(t.Context(), &wbBatch{fabric: 7, name: "f", patches: map[patchKey]map[string]any{},
			lastUpdated: map[patchKey]string{}, fabricFields: fields})
	}
	write(map[string]any{"sync_status": netbox.SyncStatusInSync, "desired_state_commit": "ccc"})
	require.Equal(t, []map[string]any{{"sync_status": "in_sync", "desired_state_commit": "ccc"}, {"desired_state_commit": "ccc"}}, wb.fabric)
	require.Len(t, wb.journal, 1)
	require.Contains(t, wb.journal[0].Comments, "GitOps status of this fabric: sync_status=in_sync. (NetBox refused to store it")
	write(map[string]any{"sync_status": netbox.SyncStatusInSync})
	require.Len(t, wb.fabric, 2, "only the refused value differs: nothing sent")
	write(map[string]any{"sync_status": netbox.SyncStatusInSync, "desired_state_commit": "ddd"})
	require.Equal(t, map[string]any{"desired_state_commit": "ddd"}, wb.fabric[2], "the refused value is left out: no 500 per commit")
	require.Len(t, wb.journal, 1)
	write(map[string]any{"sync_status": netbox.SyncStatusError})
	require.Equal(t, map[string]any{"sync_status": "error"}, wb.fabric[3], "another value is sent")
}

// An object whose own data fails NetBox's checks: its write-back is told
// once in its journal and not sent again with the same values until the
// object changes; the other objects are written.
func TestObjectWriteBackRefusedOnce(t *testing.T) {
	wb := &refusingWriteBack{bad: map[int64]bool{2: true}}
	r := refusingSetup(t, wb)
	batch := func(syncErr, updated string) *wbBatch {
		return &wbBatch{fabric: 7, name: "f",
			patches:     map[patchKey]map[string]any{{"VPC", 1}: {"kubernetes_status": "pending"}, {"VPC", 2}: {"sync_error": syncErr}},
			lastUpdated: map[patchKey]string{{"VPC", 1}: "t1", {"VPC", 2}: updated}}
	}
	r.writer.write(t.Context(), batch("bad name", "t1"))
	require.Equal(t, 2, wb.objects)
	require.Len(t, wb.journal, 1)
	require.Equal(t, int64(2), wb.journal[0].ObjectID)
	require.Equal(t, "hnp-sidecar: NetBox refused to save this object's GitOps status (HTTP 400: "+
		`{"name":["Name must be a valid Kubernetes resource name (DNS-1123 compliant)"]}); not saved: sync_error=bad name. `+
		"The object's own data fails NetBox's checks: fix it in NetBox, then its status is written.", wb.journal[0].Comments)
	r.writer.write(t.Context(), batch("bad name", "t1"))
	require.Equal(t, 3, wb.objects, "only the object that was not refused is sent again")
	require.Len(t, wb.journal, 1)
	r.writer.write(t.Context(), batch("other reason", "t1"))
	require.Equal(t, 5, wb.objects, "new values are sent")
	require.Len(t, wb.journal, 2)
	wb.bad = nil
	r.writer.write(t.Context(), batch("other reason", "t2"))
	require.Equal(t, 7, wb.objects, "the object changed in NetBox: sent again")
	require.Len(t, wb.journal, 2)
}

// failingJournal refuses nothing but cannot write journal entries.
type failingJournal struct{ refusingWriteBack }

func (f *failingJournal) AddJournalEntries(context.Context, []netbox.JournalEntry) error {
	return errors.New("netbox: 503")
}

// What could not be told (its journal entry failed) is told again.
func TestRefusalToldAgainWhenTheJournalFails(t *testing.T) {
	wb := &failingJournal{refusingWriteBack{blankWatch: true}}
	probs, err := problems.New(redisenv.Start(t).Client(t), "t", prometheus.NewRegistry())
	require.NoError(t, err)
	r := New(nil, nil, Defaults{}, slog.New(slog.DiscardHandler), WithWriteBack(wb), WithProblems(probs))
	b := func() *wbBatch {
		return &wbBatch{fabric: 7, name: "f", patches: map[patchKey]map[string]any{}, lastUpdated: map[patchKey]string{},
			fabricUpdated: "t1", fabricFields: map[string]any{"sync_status": "error"}}
	}
	r.writer.write(t.Context(), b())
	r.writer.write(t.Context(), b())
	require.Len(t, wb.fabric, 2, "not recorded as told: sent and told again")
}
