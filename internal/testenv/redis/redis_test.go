package redisenv

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestStopRestartKill: what was written survives Stop and a restart on the
// same directory and port (append-only, fsync always), and Kill ends the
// server at once.
func TestStopRestartKill(t *testing.T) {
	s := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, s.Client(t).Set(ctx, "k", "v", 0).Err())
	pid := s.proc.PID()
	s.Stop()
	require.Error(t, s.proc.Exited())
	s.Stop() // again: nothing to do

	again, err := RunOn(s.Binary(), s.Dir, s.Port())
	require.NoError(t, err)
	t.Cleanup(again.Stop)
	require.NotEqual(t, pid, again.proc.PID())
	got, err := again.Client(t).Get(ctx, "k").Result()
	require.NoError(t, err)
	require.Equal(t, "v", got)

	again.Kill()
	require.ErrorContains(t, again.proc.Exited(), "signal: killed")
}
