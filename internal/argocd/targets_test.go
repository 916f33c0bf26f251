package argocd

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// Both stores keep the same contract: the latest target per fabric, done
// only by its own seq, failures in a row until a success. The Redis one
// keeps its keys in the prefix's hash slot and no credentials.
func TestTargetStores(t *testing.T) {
	srv := redisenv.Start(t)
	rdb := srv.Client(t)
	for _, tc := range []struct {
		name  string
		store targetStore
	}{
		{"memory", newMemTargets()},
		{"redis", newRedisTargets(rdb, "p")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := tc.store
			t0 := time.Now()
			s1, err := s.Put(ctx, saved{Fabric: 7, FabricName: "f", Commit: "c1", RepoURL: "https://git.example/r.git", At: t0}, false)
			require.NoError(t, err)
			s2, err := s.Put(ctx, saved{Fabric: 7, FabricName: "f", Commit: "c2", At: t0.Add(time.Second)}, false)
			require.NoError(t, err)
			require.Greater(t, s2, s1)
			_, err = s.Put(ctx, saved{Fabric: 7, FabricName: "f", Commit: "c0", At: t0.Add(time.Millisecond)}, true)
			require.ErrorIs(t, err, errSuperseded, "a retried Put of an older target is refused")
			seq, err := s.Seq(ctx, 7)
			require.NoError(t, err)
			require.Equal(t, s2, seq)
			require.NoError(t, s.Done(ctx, 7, s1), "an older seq does not clear a newer target")
			require.NoError(t, s.Done(ctx, 7, 0), "seq 0 (never stored) clears nothing")
			p, err := s.Pending(ctx)
			require.NoError(t, err)
			require.Equal(t, "c2", p[7].Commit)
			require.Equal(t, s2, p[7].Seq)
			require.NoError(t, s.Done(ctx, 7, s2))
			p, err = s.Pending(ctx)
			require.NoError(t, err)
			require.Empty(t, p)

			h, err := s.Health(ctx, 7)
			require.NoError(t, err)
			require.Empty(t, h, "unknown")
			require.NoError(t, s.SetHealth(ctx, 7, "Degraded"))
			h, err = s.Health(ctx, 7)
			require.NoError(t, err)
			require.Equal(t, "Degraded", h)

			for i := 1; i <= 3; i++ {
				n, err := s.Failed(ctx, 7, fabricFailure{FabricName: "f", Error: errors.New("down").Error(), At: time.Now()})
				require.NoError(t, err)
				require.Equal(t, i, n)
			}
			failing, last, err := s.Failing(ctx)
			require.NoError(t, err)
			require.Equal(t, 3, failing[7].Count)
			require.True(t, last.IsZero())
			require.NoError(t, s.Succeeded(ctx, 7, time.Now()))
			failing, last, err = s.Failing(ctx)
			require.NoError(t, err)
			require.Empty(t, failing)
			require.False(t, last.IsZero())

			_, err = s.Put(ctx, saved{Fabric: 7, FabricName: "f", Commit: "c3", At: t0.Add(2 * time.Second)}, false)
			require.NoError(t, err)
			_, err = s.Failed(ctx, 7, fabricFailure{FabricName: "f", Error: "down", At: time.Now()})
			require.NoError(t, err)
			require.NoError(t, s.Forget(ctx, 7), "a fabric deleted in NetBox")
			p, err = s.Pending(ctx)
			require.NoError(t, err)
			require.Empty(t, p)
			seq, err = s.Seq(ctx, 7)
			require.NoError(t, err)
			require.Zero(t, seq)
			h, err = s.Health(ctx, 7)
			require.NoError(t, err)
			require.Empty(t, h)
			failing, _, err = s.Failing(ctx)
			require.NoError(t, err)
			require.Empty(t, failing)
		})
	}
	keys, err := rdb.Keys(context.Background(), "*").Result()
	require.NoError(t, err)
	require.NotEmpty(t, keys)
	for _, k := range keys {
		require.Regexp(t, `^\{p\}:argocd:`, k)
		require.Equal(t, "{p}:argocd:last-success", k, "every hash of fabric 7 is empty after Forget")
	}
}

// A repository's credentials never reach Redis; a target read back gets
// them from the configuration (RepoCredentials).
func TestTargetCredentialsNotStored(t *testing.T) {
	rdb := redisenv.Start(t).Client(t)
	s := NewSyncer(&fakeArgo{}, nil, Options{Redis: rdb, Prefix: "p", RepoCredentials: func(url string) Repository {
		return Repository{Username: "git", Password: "from-config"}
	}}, nil, nil)
	tg := targetOf(3, "c1")
	tg.Repo = Repository{URL: "https://git.example/r.git", Username: "git", Password: "s3cret-token"}
	s.Committed(tg)
	raw, err := rdb.HGetAll(context.Background(), "{p}:argocd:targets").Result()
	require.NoError(t, err)
	require.Contains(t, raw["3"], "https://git.example/r.git")
	require.NotContains(t, raw["3"], "s3cret-token")

	p, err := s.store.Pending(context.Background())
	require.NoError(t, err)
	back := s.rehydrate(p[3])
	require.Equal(t, Repository{URL: "https://git.example/r.git", Username: "git", Password: "from-config"}, back.Repo)
	require.Equal(t, tg.App, back.App)
}
