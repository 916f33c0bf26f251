package failover

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// TestSentinelFailoverLosesNoAcknowledgedHint: a stream of hints through
// the real queue while a real Sentinel set loses its primary to SIGKILL.
// With WAIT for one replica, no hint the queue accepted is lost; without
// it, what was lost is logged (asynchronous replication may lose the last
// writes before the kill).
func TestSentinelFailoverLosesNoAcknowledgedHint(t *testing.T) {
	for _, tc := range []struct {
		name string
		wait int
	}{{"wait-off", 0}, {"wait-1", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			s := redisenv.StartSentinel(t, 1)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res, err := Measure(ctx, s, "fo", Run{Writers: 8, Before: time.Second, After: time.Second,
				WaitReplicas: tc.wait})
			require.NoError(t, err)
			t.Logf("%s: %s", tc.name, res)
			require.Positive(t, res.AcceptedBeforeKill)
			require.Positive(t, res.AcceptedAfter, "the stream goes on after the failover")
			if tc.wait > 0 {
				require.Zero(t, res.Lost, "an acknowledged hint was lost")
			}
		})
	}
}
