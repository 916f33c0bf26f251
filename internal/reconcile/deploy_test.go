package reconcile

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

type recordingDeployer struct{ targets []argocd.Target }

func (d *recordingDeployer) Committed(t argocd.Target) { d.targets = append(d.targets, t) }
func (d *recordingDeployer) Health(int64) string       { return "" }

var testArgo = ArgoDefaults{Namespace: "argocd", Project: argocd.DefaultProject, DestServer: "https://kubernetes.default.svc",
	DestNamespace: "default"}

func TestApplicationBounds(t *testing.T) {
	tgt := Target{URL: "https://git.example.com/fab.git", Branch: "main", Root: "fab"}
	cases := []struct {
		name                  string
		f                     netbox.Fabric
		wantName, wantDest    string
		refused, refusedField string
	}{
		{"derived", netbox.Fabric{ID: 3, Name: "Fab One"}, "hnp-3-fab-one", "default", "", ""},
		{"allowed name", netbox.Fabric{ID: 3, Name: "f", GitopsAppName: "hedgehog-f"}, "hedgehog-f", "default", "", ""},
		{"someone else's name", netbox.Fabric{ID: 3, Name: "f", GitopsAppName: "argocd-server"}, "", "", "Argo CD:", "gitops_app_name"},
		{"other namespace", netbox.Fabric{ID: 3, Name: "f", GitopsNamespace: "kube-system"}, "", "", "Argo CD:", "gitops_namespace"},
		{"other destination", netbox.Fabric{ID: 3, Name: "f", KubernetesNS: "kube-system"}, "", "", "Argo CD:", "kubernetes_namespace"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := application(c.f, tgt, testArgo)
			if c.refused != "" {
				require.ErrorIs(t, err, ErrFabricConfig)
				require.True(t, strings.HasPrefix(reasonOf(err), c.refused), reasonOf(err))
				require.Contains(t, reasonOf(err), c.refusedField)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.wantName, a.Name)
			require.Equal(t, "argocd", a.Namespace)
			require.Equal(t, c.wantDest, a.DestNamespace)
			require.Equal(t, c.f.ID, a.FabricID)
			require.Equal(t, argocd.DefaultProject, a.Project)
		})
	}
}

// A refused Application is shown on the fabric once (journal, health),
// survives a successful push, and ends when the Application is accepted.
func TestDeployRefusedIsShownOnTheFabric(t *testing.T) {
	ctx := context.Background()
	wb := &refusingWriteBack{}
	r := refusingSetup(t, wb)
	d := &recordingDeployer{}
	WithDeployer(d, testArgo)(r)
	tgt := Target{URL: "https://git.example.com/fab.git", Branch: "main", Root: "fab"}
	bad := netbox.Fabric{ID: 7, Name: "fab", GitopsAppName: "argocd-server"}

	r.deploy(bad, tgt, "c1")
	r.deploy(bad, tgt, "c2")
	require.Empty(t, d.targets, "Argo CD must not be touched")
	require.Len(t, wb.journal, 1, "told once: %v", wb.journal)
	require.Equal(t, netbox.JournalDanger, wb.journal[0].Level)
	require.Contains(t, wb.journal[0].Comments, `gitops_app_name "argocd-server"`)
	p, ok, err := r.problems.Get(ctx, 7)
	require.NoError(t, err)
	require.True(t, ok)
	require.Contains(t, p.Reason, "HNP_ARGOCD_APP_NAME_PATTERN")

	require.Nil(t, r.resolved(ctx, bad, gitops.Result{Commit: "c2"}, nil), "a push does not end an Argo CD problem")
	_, ok, _ = r.problems.Get(ctx, 7)
	require.True(t, ok)

	good := bad
	good.GitopsAppName = ""
	r.deploy(good, tgt, "c3")
	require.Len(t, d.targets, 1)
	require.Equal(t, "hnp-7-fab", d.targets[0].App.Name)
	d.targets[0].Ensured(ctx, fmt.Errorf("argocd: apply application argocd/hnp-7-fab: %w: not ours", argocd.ErrForeignApplication))
	require.Len(t, wb.journal, 2)
	require.Contains(t, wb.journal[1].Comments, "not ours")
	d.targets[0].Ensured(ctx, nil)
	require.Len(t, wb.journal, 3)
	require.Equal(t, netbox.JournalSuccess, wb.journal[2].Level)
	_, ok, _ = r.problems.Get(ctx, 7)
	require.False(t, ok)
	d.targets[0].Ensured(ctx, nil) // nothing to resolve: nothing told
	require.Len(t, wb.journal, 3)
}
