package argocd

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// flaky fails Put while down is set (Redis unreachable for that call).
type flaky struct {
	targetStore
	down atomic.Bool
}

func (f *flaky) Put(ctx context.Context, t saved, ifNewer bool) (int64, error) {
	if f.down.Load() {
		return 0, errors.New("redis: connection refused")
	}
	return f.targetStore.Put(ctx, t, ifNewer)
}

// A target whose Put failed is kept and put again before it is synced; if
// another replica stored a newer target meanwhile, the old one is dropped
// and the newer one is neither cleared nor rolled back.
func TestFailedPutIsRetriedNeverClearsANewerTarget(t *testing.T) {
	for _, tc := range []struct {
		name  string
		newer bool
	}{
		{"put again, then synced", false},
		{"a newer target came meanwhile", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rdb, st := sharedRedis(t, 1)
			f := &fakeArgo{}
			s := NewSyncer(f, st, Options{Poll: 10 * time.Millisecond, Timeout: time.Minute, Redis: rdb, Prefix: "t",
				Owner: owner(1), Rescan: 30 * time.Millisecond}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			store := &flaky{targetStore: s.store}
			s.store = store
			store.down.Store(true)
			s.Committed(targetOf(1, "c1"))
			if tc.newer {
				_, err := newRedisTargets(rdb, "t").Put(context.Background(), saved{Fabric: 1, FabricName: "f1",
					App: targetOf(1, "c2").App, Commit: "c2", At: time.Now().Add(time.Second)}, false)
				require.NoError(t, err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Go(func() { s.Run(ctx) })
			t.Cleanup(func() { cancel(); wg.Wait() })
			time.Sleep(200 * time.Millisecond)
			require.Empty(t, f.synced(), "not synced while not recorded")
			s.mu.Lock()
			_, kept := s.want[1]
			s.mu.Unlock()
			require.True(t, kept, "kept while its Put fails")
			store.down.Store(false)
			if !tc.newer {
				require.Eventually(t, allIn(t, st, 1, state.Synced), 5*time.Second, 10*time.Millisecond)
				require.Equal(t, []string{"c1"}, f.synced())
				return
			}
			require.Eventually(t, allIn(t, st, 1, state.Synced), 5*time.Second, 10*time.Millisecond)
			require.Equal(t, []string{"c2"}, f.synced(), "only the newer target is synced")
		})
	}
}
