package argocd

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

type places map[int64]Place

func (p places) Place(_ context.Context, fabric int64) (Place, error) {
	pl, ok := p[fabric]
	if !ok {
		return Place{}, errors.New("refused")
	}
	return pl, nil
}

// Each attempt takes the fabric's own driver and in-cluster destination
// (the Application's and the AppProject's) when Places names one, the
// syncer's defaults otherwise; without any Argo CD it fails, never panics.
func TestPlaced(t *testing.T) {
	def, own := &fakeArgo{}, &fakeArgo{}
	project := &Project{Name: "hnp-sidecar", Destinations: []Destination{{Server: "https://central", Namespace: "default"}}}
	s := NewSyncer(def, nil, Options{Project: project, Places: places{1: {}, 2: {Driver: own, DestServer: InCluster, Where: "https://c2"},
		4: {Driver: own, DestServer: InCluster, Untrusted: true}}},
		nil, slog.New(slog.DiscardHandler))
	app := App{Name: "a", DestServer: "https://central"}

	tg, err := s.placed(context.Background(), Target{Fabric: 1, App: app})
	require.NoError(t, err)
	require.Same(t, def, tg.drv)
	require.Same(t, project, tg.project)
	require.Equal(t, "https://central", tg.App.DestServer)

	tg, err = s.placed(context.Background(), Target{Fabric: 2, App: app})
	require.NoError(t, err)
	require.Same(t, own, tg.drv)
	require.Equal(t, InCluster, tg.App.DestServer)
	require.Equal(t, []Destination{{Server: InCluster, Namespace: "default"}}, tg.project.Destinations)
	require.Equal(t, "https://central", project.Destinations[0].Server, "the configured project is not changed")

	repo := Repository{URL: "https://git.example/r.git", Password: "git-token"}
	tg, err = s.placed(context.Background(), Target{Fabric: 2, App: app, Repo: repo})
	require.NoError(t, err)
	require.Equal(t, repo, tg.Repo, "a listed server gets the repository")
	tg, err = s.placed(context.Background(), Target{Fabric: 4, App: app, Repo: repo})
	require.NoError(t, err)
	require.Equal(t, Repository{}, tg.Repo, "a server only NetBox names never gets the sidecar's credentials")

	_, err = s.placed(context.Background(), Target{Fabric: 3, FabricName: "x", App: app})
	require.ErrorContains(t, err, "fabric x: where its Argo CD is: refused")

	none := NewSyncer(nil, nil, Options{Places: places{1: {}}}, nil, slog.New(slog.DiscardHandler))
	_, err = none.placed(context.Background(), Target{Fabric: 1})
	require.ErrorIs(t, err, ErrNoArgoCD)
}
