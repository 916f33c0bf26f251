package state

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The HedgehogResource mirror in a real Redis: not primed until built from
// NetBox's list; set, delete and replace.
func TestMirrorInRedis(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	m, primed, err := s.Mirrored(ctx, 4)
	require.NoError(t, err)
	require.False(t, primed)
	require.Empty(t, m)

	a := Mirror{ID: 7, Fields: map[string]any{"resource_state": "committed", "object_id": int64(12)}}
	require.NoError(t, s.SetMirrored(ctx, 4, map[string]Mirror{"VPC/default/a": a, "VPC/default/b": {Refused: true}}, nil, true, true))
	m, primed, err = s.Mirrored(ctx, 4)
	require.NoError(t, err)
	require.True(t, primed)
	require.Len(t, m, 2)
	require.Equal(t, int64(7), m["VPC/default/a"].ID)
	require.InDelta(t, 12, m["VPC/default/a"].Fields["object_id"], 0, "numbers come back as float64")
	require.True(t, m["VPC/default/b"].Refused)

	require.NoError(t, s.SetMirrored(ctx, 4, nil, []string{"VPC/default/b"}, false, false))
	m, primed, err = s.Mirrored(ctx, 4)
	require.NoError(t, err)
	require.False(t, primed, "unprimed: listed again next time")
	require.Len(t, m, 1)

	require.NoError(t, s.SetMirrored(ctx, 4, map[string]Mirror{"VPC/default/c": {ID: 9}}, nil, true, true))
	m, _, err = s.Mirrored(ctx, 4)
	require.NoError(t, err)
	require.Equal(t, map[string]Mirror{"VPC/default/c": {ID: 9}}, m, "replaced whole")
	other, _, err := s.Mirrored(ctx, 5)
	require.NoError(t, err)
	require.Empty(t, other, "per fabric")
}

// One writer of a fabric's HedgehogResources at a time: a second waits,
// then gets it once the first gives it back; another fabric is apart.
func TestMirrorLock(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	release, ok, err := s.LockMirror(ctx, 4, time.Minute, 0)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = s.LockMirror(ctx, 4, time.Minute, 200*time.Millisecond)
	require.NoError(t, err)
	require.False(t, ok, "held by the first")
	other, ok, err := s.LockMirror(ctx, 5, time.Minute, 0)
	require.NoError(t, err)
	require.True(t, ok)
	other(ctx)
	go func() { time.Sleep(150 * time.Millisecond); release(ctx) }()
	again, ok, err := s.LockMirror(ctx, 4, time.Minute, 5*time.Second)
	require.NoError(t, err)
	require.True(t, ok, "given back")
	release(ctx) // a stale release does not free the new holder's lock
	_, ok, err = s.LockMirror(ctx, 4, time.Minute, 0)
	require.NoError(t, err)
	require.False(t, ok)
	again(ctx)
}
