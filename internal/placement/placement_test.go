package placement

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/cluster"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

type fabrics map[int64]netbox.Fabric

func (f fabrics) GetFabric(_ context.Context, id int64) (netbox.Fabric, error) {
	if fab, ok := f[id]; ok {
		return fab, nil
	}
	return netbox.Fabric{}, netbox.ErrNotFound
}

// A fabric naming its own cluster gets the Argo CD inside it (deploying
// in-cluster); others the default; what the sidecar has no credentials
// for, or may not reach, is refused with the reason.
func TestFor(t *testing.T) {
	def := &rest.Config{Host: "https://default:6443"}
	for _, tc := range []struct {
		name    string
		f       netbox.Fabric
		opts    Options
		allowed []string
		own     bool
		refused string
	}{
		{name: "default", f: netbox.Fabric{Name: "a"}, opts: Options{DefaultArgo: true, DefaultDestServer: "https://central"}},
		{name: "own cluster", f: netbox.Fabric{Name: "b", KubernetesServer: "https://10.0.0.1:6443", KubernetesToken: "t"}, own: true},
		{name: "own cluster, its argocd_server_url informative", own: true,
			f: netbox.Fabric{Name: "c", KubernetesServer: "https://10.0.0.1:6443", ArgocdServerURL: "https://argocd.fab.example"}},
		{name: "argocd_server_url is HNP_ARGOCD_URL", f: netbox.Fabric{Name: "d", ArgocdServerURL: "https://ArgoCD.example.com/"},
			opts: Options{DefaultArgo: true, DefaultArgoURL: "https://argocd.example.com"}},
		{name: "argocd_server_url elsewhere", f: netbox.Fabric{Name: "e", ArgocdServerURL: "https://evil.example/?token=x"},
			opts: Options{DefaultArgo: true, DefaultArgoURL: "https://argocd.example.com"}, refused: "argocd_server_url https://evil.example/ is not HNP_ARGOCD_URL"},
		{name: "no default Argo CD", f: netbox.Fabric{Name: "f"}, refused: "no default Argo CD"},
		{name: "plain http server", f: netbox.Fabric{Name: "g", KubernetesServer: "http://10.0.0.1:6443"}, refused: "only https://"},
		{name: "server with a path", f: netbox.Fabric{Name: "h", KubernetesServer: "https://10.0.0.1/api?x=1"}, refused: "https://host[:port] only"},
		{name: "server not allowed", f: netbox.Fabric{Name: "i", KubernetesServer: "https://10.0.0.9:6443"}, allowed: []string{"10.0.0.1"},
			refused: "10.0.0.9:6443 is not in HNP_CLUSTER_ALLOWED_SERVERS"},
		{name: "server allowed by host", f: netbox.Fabric{Name: "j", KubernetesServer: "https://10.0.0.1:6443"}, allowed: []string{"10.0.0.1"}, own: true},
		{name: "server allowed by host:port", f: netbox.Fabric{Name: "k", KubernetesServer: "https://Fab.example:6443"}, allowed: []string{"fab.example:6443"}, own: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := New(fabrics{}, cluster.NewClusters(def, nil).Restrict(tc.allowed), tc.opts)
			pl, err := p.For(tc.f)
			if tc.refused != "" {
				require.ErrorIs(t, err, ErrRefused)
				require.ErrorContains(t, err, tc.refused)
				require.NotContains(t, err.Error(), "token=x")
				_, err := p.Destination(tc.f)
				require.ErrorIs(t, err, ErrRefused)
				return
			}
			require.NoError(t, err)
			if tc.own {
				require.IsType(t, &argocd.Kube{}, pl.Driver)
				require.Equal(t, len(tc.allowed) == 0, pl.Untrusted, "only a listed server gets the repository credentials")
				require.Equal(t, argocd.InCluster, pl.DestServer)
				require.Equal(t, tc.f.KubernetesServer, pl.Where)
				rc, err := p.Cluster(tc.f)
				require.NoError(t, err)
				require.Equal(t, tc.f.KubernetesServer, rc.Host)
				return
			}
			require.Equal(t, argocd.Place{DestServer: tc.opts.DefaultDestServer}, pl)
			rc, err := p.Cluster(tc.f)
			require.NoError(t, err)
			require.Same(t, def, rc)
		})
	}
}

// The syncer asks by id: a fabric handed over by the reconcile is not read
// again within the TTL; an unknown one is read from NetBox.
func TestPlaceReadsNetBoxOnlyWhenNotRemembered(t *testing.T) {
	own := netbox.Fabric{ID: 2, Name: "b", KubernetesServer: "https://10.0.0.2:6443"}
	p := New(fabrics{2: own}, cluster.NewClusters(nil, nil), Options{DefaultArgo: true})
	p.Remember(netbox.Fabric{ID: 1, Name: "a"})
	pl, err := p.Place(context.Background(), 1)
	require.NoError(t, err)
	require.Nil(t, pl.Driver)
	pl, err = p.Place(context.Background(), 2)
	require.NoError(t, err)
	require.Equal(t, "https://10.0.0.2:6443", pl.Where)
	_, err = p.Place(context.Background(), 3)
	require.ErrorIs(t, err, netbox.ErrNotFound)
}
