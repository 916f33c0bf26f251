package gitops

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
)

// TestTenThousandFiles reports how long a 10,000-file batch and a no-op
// batch take against the real test server (figures only, no assertion on
// time).
func TestTenThousandFiles(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a timing report: skipped under -short and -race")
	}
	srv := gitenv.Start(t)
	url := srv.NewRepo(t, "big", "main")
	w := newWriter(t, srv, srv.Password)
	changes := make([]Change, 10000)
	for i := range changes {
		changes[i] = Change{Path: fmt.Sprintf("f/managed/connections/server-%05d--unbundled--leaf-%02d.yaml", i, i%40),
			Content: fmt.Appendf(nil, "apiVersion: wiring.githedgehog.com/v1beta1\nkind: Connection\nmetadata:\n  name: c-%d\nspec:\n  unbundled:\n    link:\n      server: {port: server-%05d/enp2s1}\n      switch: {port: leaf-%02d/E1/%d}\n", i, i, i%40, i%48+1)}
	}
	b := Batch{URL: url, Branch: "main", Message: "Full reconcile", Changes: changes}
	start := time.Now()
	res, err := w.Apply(context.Background(), b)
	require.NoError(t, err)
	require.True(t, res.Committed)
	full := time.Since(start)
	start = time.Now()
	res, err = w.Apply(context.Background(), b)
	require.NoError(t, err)
	require.False(t, res.Committed)
	t.Logf("10,000 files into an empty repo: %s; the same again (no-op): %s", full.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}
