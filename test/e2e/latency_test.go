package e2e

import (
	"io"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// latency is one stage of hnp_sync_latency_seconds as /metrics shows it.
type latency struct {
	Count    float64
	P50, P99 time.Duration
}

var bucketLine = regexp.MustCompile(`(?m)^hnp_sync_latency_seconds_bucket\{([^}]*)\} (\S+)$`)

// latencyOf reads hnp_sync_latency_seconds{stage} from the sidecar, with
// p50 and p99 computed from the buckets as PromQL's histogram_quantile does.
func latencyOf(t *testing.T, s *sidecar, stage string) latency {
	t.Helper()
	r, err := http.Get(s.URL + "/metrics")
	require.NoError(t, err)
	defer func() { _ = r.Body.Close() }()
	b, _ := io.ReadAll(r.Body)
	type bucket struct{ le, n float64 }
	var bs []bucket
	for _, m := range bucketLine.FindAllStringSubmatch(string(b), -1) {
		labels := map[string]string{}
		for l := range strings.SplitSeq(m[1], ",") {
			k, v, _ := strings.Cut(l, "=")
			labels[k] = strings.Trim(v, `"`)
		}
		if labels["stage"] != stage {
			continue
		}
		le, err := strconv.ParseFloat(labels["le"], 64) // "+Inf" parses as +Inf
		require.NoError(t, err)
		n, err := strconv.ParseFloat(m[2], 64)
		require.NoError(t, err)
		bs = append(bs, bucket{le, n})
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	if len(bs) == 0 {
		return latency{}
	}
	total := bs[len(bs)-1].n
	q := func(q float64) time.Duration {
		rank := q * total
		lower, below := 0.0, 0.0
		for i, bk := range bs {
			if bk.n >= rank {
				if math.IsInf(bk.le, 1) {
					return time.Duration(bs[i-1].le * float64(time.Second))
				}
				v := lower + (bk.le-lower)*(rank-below)/(bk.n-below)
				return time.Duration(v * float64(time.Second))
			}
			lower, below = bk.le, bk.n
		}
		return 0
	}
	return latency{Count: total, P50: q(0.5), P99: q(0.99)}
}

// logOutcomes prints the freshness and outcome metrics of a run: the
// latency stages' p50 / p99 (bucket interpolation, as Grafana shows
// them) and the Git push and Argo CD sync results.
func logOutcomes(t *testing.T, s *sidecar, what string) (committed, synced latency) {
	t.Helper()
	committed, synced = latencyOf(t, s, "committed"), latencyOf(t, s, "synced")
	results := func(metric string, rs ...string) string {
		var out []string
		for _, r := range rs {
			out = append(out, r+"="+strconv.FormatFloat(metricSum(t, s, metric+`{result="`+r+`"}`), 'f', -1, 64))
		}
		return strings.Join(out, " ")
	}
	t.Logf("%s: hnp_sync_latency_seconds committed n=%.0f p50 %s p99 %s; synced n=%.0f p50 %s p99 %s; "+
		"hnp_git_pushes_total %s; hnp_argocd_syncs_total %s", what,
		committed.Count, committed.P50.Round(time.Millisecond), committed.P99.Round(time.Millisecond),
		synced.Count, synced.P50.Round(time.Millisecond), synced.P99.Round(time.Millisecond),
		results("hnp_git_pushes_total", "ok", "no_change", "rejected", "auth", "conflict", "superseded", "error"),
		results("hnp_argocd_syncs_total", "ok", "failed", "timeout", "error"))
	return committed, synced
}
