package state

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadFields(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	a := Key{Fabric: 1, Kind: "VPC", Namespace: "default", Name: "a"}
	b := Key{Fabric: 1, Kind: "VPC", Namespace: "default", Name: "b"}
	for _, k := range []Key{a, b} {
		require.NoError(t, s.Move(ctx, Change{Key: k, To: Draft, Trigger: Observed}))
	}
	got, err := s.LoadFields(ctx, 1, []string{a.field(), "VPC/default/none"})
	require.NoError(t, err)
	require.Len(t, got, 1, "only the records asked for, and only those that exist")
	require.Equal(t, Draft, got[a.field()].State)
	all, err := s.Load(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, all[a.field()], got[a.field()])
	empty, err := s.LoadFields(ctx, 1, nil)
	require.NoError(t, err)
	require.Empty(t, empty)
}
