package reconcile

import (
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
)

func TestOwnerOf(t *testing.T) {
	golden, err := os.ReadFile("../render/testdata/golden/vpcs/vpc-01.yaml")
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		in   string
		want gitFile
	}{
		{"golden", string(golden), gitFile{kind: vpcKind, id: 38, ok: true}},
		{"no annotation", "kind: VPC\nmetadata:\n  name: x\n", gitFile{}},
		{"not yaml", "\x00{[", gitFile{}},
		{"other app", "metadata:\n  annotations:\n    hnp.githedgehog.com/netbox-object: dcim.vpc/3\n", gitFile{}},
		{"no app", "metadata:\n  annotations:\n    hnp.githedgehog.com/netbox-object: vpc/3\n", gitFile{}},
		{"fabric", "metadata:\n  annotations:\n    hnp.githedgehog.com/netbox-object: netbox_hedgehog.hedgehogfabric/3\n", gitFile{}},
		{"bad id", "metadata:\n  annotations:\n    hnp.githedgehog.com/netbox-object: netbox_hedgehog.vpc/-3\n", gitFile{}},
	} {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, ownerOf([]byte(tc.in))) })
	}
}

func FuzzOwnerOf(f *testing.F) {
	f.Add([]byte("metadata:\n  annotations:\n    hnp.githedgehog.com/netbox-object: netbox_hedgehog.vpc/3\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		g := ownerOf(b)
		if g.ok && (g.id <= 0 || g.kind.IsFabric()) {
			t.Fatalf("%q: %+v", b, g)
		}
	})
}

func TestClassifyAndGuard(t *testing.T) {
	vpc := func(id int64) gitFile { return gitFile{kind: vpcKind, id: id, ok: true} }
	s := snapshot{files: map[string]gitFile{"m/vpcs/a.yaml": vpc(1), "m/vpcs/b.yaml": vpc(2), "m/vpcs/c.yaml": vpc(3),
		"m/vpcs/d.yaml": vpc(4), "m/vpcs/e.yaml": vpc(5), "m/vpcs/renamed.yaml": vpc(6), "m/x.txt": {}}}
	changes := []gitops.Change{{Path: "m/vpcs/a.yaml", Content: []byte("a")}, {Path: "m/vpcs/f.yaml", Content: []byte("f")}}
	items := []listed{{kind: vpcKind, obj: netbox.Object{ID: 1}}, {kind: vpcKind, obj: netbox.Object{ID: 6}}}
	hints := []queue.Hint{{ObjectType: vpcKind.ObjectType(), ObjectID: 2, Event: "deleted"}}
	require.Equal(t, []string{"m/vpcs/c.yaml", "m/vpcs/d.yaml", "m/vpcs/e.yaml"}, needProbe(s, changes, items, hints))
	probes := map[string]probed{"m/vpcs/c.yaml": {gone: true}, "m/vpcs/d.yaml": {moved: true, movedTo: 9},
		"m/vpcs/e.yaml": {found: &listed{kind: vpcKind, obj: netbox.Object{ID: 5}}}}
	ev := classify(s, changes, items, hints, nil, probes)
	got := map[string]bool{}
	for _, rm := range ev.removals {
		got[rm.path] = rm.confirmed
	}
	require.Equal(t, map[string]bool{"m/vpcs/b.yaml": true, "m/vpcs/c.yaml": false, "m/vpcs/d.yaml": true,
		"m/vpcs/renamed.yaml": true, "m/x.txt": false}, got, "e.yaml (found) stays")
	require.Equal(t, 2, ev.unconfirmed())
	require.Equal(t, 7, ev.files)

	r := &Reconciler{logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f := netbox.Fabric{Name: "f"}
	for _, tc := range []struct {
		name        string
		n, of       int
		frac        float64
		hints       []queue.Hint
		wantRefused bool
	}{
		{"one of one: the floor", 1, 1, 0, nil, false},
		{"two of three", 2, 3, 0, nil, true},
		{"half is allowed", 3, 6, 0, nil, false},
		{"more than half", 4, 6, 0, nil, true},
		{"confirmed", 4, 6, 0, []queue.Hint{{Event: EventResyncAllowDeletes}}, false},
		{"plain resync is no confirmation", 4, 6, 0, []queue.Hint{{Event: EventResync}}, true},
		{"fraction 0.9", 5, 6, 0.9, nil, false},
		{"off", 6, 6, 1, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := evidence{files: tc.of}
			for range tc.n {
				ev.removals = append(ev.removals, removal{path: "p", why: "answers 404"})
			}
			r.maxDelete = tc.frac
			err := r.guard(f, ev, tc.hints)
			if tc.wantRefused {
				require.ErrorIs(t, err, ErrFabricConfig)
			} else {
				require.NoError(t, err)
			}
		})
	}
}
