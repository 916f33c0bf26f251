package state

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

func newStore(t *testing.T) (*Store, *prometheus.Registry) {
	t.Helper()
	srv := redisenv.Start(t)
	reg := prometheus.NewRegistry()
	s, err := New(srv.Client(t), Options{Prefix: "t", HistoryLen: 100}, reg)
	require.NoError(t, err)
	return s, reg
}

var vpc1 = Key{Fabric: 1, Kind: "VPC", Namespace: "default", Name: "vpc-1"}

// at puts a fresh key into state st by a legal path.
func at(t *testing.T, s *Store, k Key, st State) {
	t.Helper()
	ctx := context.Background()
	path := map[State][]State{
		Draft: {Draft}, Committed: {Committed}, Orphaned: {Orphaned},
		Pending: {Committed, Pending}, Synced: {Committed, Synced}, Drifted: {Committed, Synced, Drifted},
	}[st]
	for _, to := range path {
		require.NoError(t, s.Move(ctx, Change{Key: k, To: to}))
	}
}

func TestEveryPairFollowsTheTable(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	n := 0
	for _, from := range States {
		for _, to := range States {
			n++
			k := Key{Fabric: 1, Kind: "VPC", Namespace: "default", Name: fmt.Sprintf("k%d", n)}
			at(t, s, k, from)
			want, legal := TriggerFor(from, to)
			err := s.Move(ctx, Change{Key: k, To: to})
			if !legal {
				require.ErrorIs(t, err, ErrIllegal, "%s -> %s", from, to)
				r, err := s.Get(ctx, k)
				require.NoError(t, err)
				require.Equal(t, from, r.State, "an illegal transition must not be applied")
				continue
			}
			require.NoError(t, err, "%s -> %s", from, to)
			r, err := s.Get(ctx, k)
			require.NoError(t, err)
			require.Equal(t, to, r.State)
			require.Equal(t, want, r.History[0].Trigger)
			require.Equal(t, from, r.History[0].From)
		}
	}
	require.Len(t, transitions, 18)
}

func TestTriggersAreChecked(t *testing.T) {
	s, reg := newStore(t)
	ctx := context.Background()
	at(t, s, vpc1, Committed)
	err := s.Move(ctx, Change{Key: vpc1, To: Draft, Trigger: UpdateDraft})
	require.ErrorIs(t, err, ErrIllegal, "committed -> draft is edit_resource, not update_draft")
	require.NoError(t, s.Move(ctx, Change{Key: vpc1, To: Draft, Trigger: EditResource}))
	// A record cannot begin where only a transition leads.
	err = s.Move(ctx, Change{Key: Key{Fabric: 1, Kind: "VPC", Namespace: "default", Name: "new"}, To: Synced})
	require.ErrorIs(t, err, ErrIllegal)
	require.Equal(t, 2.0, testutil.ToFloat64(s.illegal))
	m, err := s.Meta(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2, m.Illegal)
	require.NotNil(t, m.LastTransition)
	_ = reg
}

func TestRecordLifecycle(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	require.NoError(t, s.Move(ctx, Change{Key: vpc1, To: Draft, Expect: None, NetBoxID: 12, FabricName: "fab", Reason: "bad subnet"}))
	require.ErrorIs(t, s.Move(ctx, Change{Key: vpc1, To: Draft, Expect: None}), ErrConflict)
	require.NoError(t, s.Move(ctx, Change{Key: vpc1, To: Draft, Expect: Draft}))
	require.NoError(t, s.Move(ctx, Change{Key: vpc1, To: Committed, Expect: Draft, Commit: "abc", Path: "managed/vpcs/vpc-1.yaml", Committed: true}))
	r, err := s.Get(ctx, vpc1)
	require.NoError(t, err)
	require.Equal(t, Committed, r.State)
	require.Empty(t, r.Reason, "success clears the reason")
	require.Equal(t, "abc", r.Commit)
	require.EqualValues(t, 12, r.NetBoxID)
	require.Equal(t, "fab", r.FabricName)
	require.NotNil(t, r.CommittedAt)
	require.Len(t, r.History, 3)
	require.Equal(t, []Trigger{CommitToGit, UpdateDraft, Observed}, []Trigger{r.History[0].Trigger, r.History[1].Trigger, r.History[2].Trigger})
	require.Equal(t, "bad subnet", r.History[2].Reason)

	counts, err := s.Counts(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, counts["fab"][Committed])
	require.Equal(t, 0, counts["fab"][Draft])

	require.NoError(t, s.Move(ctx, Change{Key: vpc1, End: true, Trigger: DeletedInNetBox}))
	require.NoError(t, s.Move(ctx, Change{Key: vpc1, To: Orphaned, Expect: None, Reason: "deleted in NetBox; file still in Git"}))
	require.NoError(t, s.Move(ctx, Change{Key: vpc1, End: true, Trigger: RemovedFromGit, Commit: "def"}))
	r, err = s.Get(ctx, vpc1)
	require.NoError(t, err)
	require.True(t, r.Gone)
	require.Equal(t, RemovedFromGit, r.History[0].Trigger)
	require.Equal(t, "def", r.History[0].Commit)
	require.ErrorIs(t, s.Move(ctx, Change{Key: vpc1, End: true}), ErrNotFound)
	_, err = s.Get(ctx, Key{Fabric: 1, Kind: "VPC", Namespace: "default", Name: "never"})
	require.ErrorIs(t, err, ErrNotFound)
	counts, err = s.Counts(ctx)
	require.NoError(t, err)
	require.Equal(t, 0, counts["fab"][Committed]+counts["fab"][Orphaned])

	list, err := s.List(ctx, Filter{})
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestBadKeysAreRefused(t *testing.T) {
	s, _ := newStore(t)
	for _, k := range []Key{{Fabric: 1, Kind: "VPC", Namespace: "default", Name: "a/b"}, {Fabric: 0, Kind: "VPC", Namespace: "d", Name: "x"}, {Fabric: 1, Kind: "", Namespace: "d", Name: "x"}} {
		require.ErrorIs(t, s.Move(context.Background(), Change{Key: k, To: Draft}), ErrBadKey)
	}
}

// Workers racing on one key: every applied transition is in the history,
// each starting where the one before ended; exactly one of many racing
// draft -> committed wins.
func TestConcurrentTransitionsAreNotLost(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	at(t, s, vpc1, Draft)
	const workers, each = 8, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				require.NoError(t, s.Move(ctx, Change{Key: vpc1, To: Draft, Reason: fmt.Sprintf("w%d-%d", w, i)}))
			}
		})
	}
	wg.Wait()
	r, err := s.Get(ctx, vpc1)
	require.NoError(t, err)
	require.Len(t, r.History, 1+workers*each)

	var won, lost int
	var mu sync.Mutex
	for range workers {
		wg.Go(func() {
			err := s.Move(ctx, Change{Key: vpc1, To: Committed, Commit: "c"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, ErrIllegal):
				lost++
			default:
				t.Errorf("unexpected: %v", err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, won)
	require.Equal(t, workers-1, lost)
	r, err = s.Get(ctx, vpc1)
	require.NoError(t, err)
	for i := 0; i+1 < len(r.History); i++ {
		require.Equal(t, r.History[i+1].To, r.History[i].From, "history is a chain")
	}
	counts, err := s.Counts(ctx)
	require.NoError(t, err)
	require.Equal(t, map[State]int{Committed: 1, Draft: 0}, counts["1"])
}

func TestApplyReloadsScriptAfterFlush(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	require.NoError(t, s.rdb.ScriptFlush(ctx).Err())
	errs := s.Apply(ctx, Change{Key: vpc1, To: Draft}, Change{Key: vpc1, To: Committed})
	require.NoError(t, errors.Join(errs...))
}

// Marked objects stay marked until shown, for every store on the Redis.
func TestShowMarks(t *testing.T) {
	rdb := redisenv.Start(t).Client(t)
	a, err := New(rdb, Options{Prefix: "t"}, prometheus.NewRegistry())
	require.NoError(t, err)
	b, err := New(rdb, Options{Prefix: "t"}, prometheus.NewRegistry())
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, a.MarkShow(ctx, 1, "VPC/default/vpc-1", "VPC/default/vpc-2"))
	require.NoError(t, a.MarkShow(ctx, 2, "Switch/default/s1"))
	got, err := b.ToShow(ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"VPC/default/vpc-1", "VPC/default/vpc-2"}, got[1])
	require.Equal(t, []string{"Switch/default/s1"}, got[2])
	require.NoError(t, b.Shown(ctx, 1, "VPC/default/vpc-1"))
	require.NoError(t, b.Shown(ctx, 2, "Switch/default/s1"))
	got, err = a.ToShow(ctx)
	require.NoError(t, err)
	require.Equal(t, map[int64][]string{1: {"VPC/default/vpc-2"}}, got)
}
