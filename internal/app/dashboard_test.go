package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/config"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// dashboardFile is the Grafana dashboard of deploy/grafana.
const dashboardFile = "../../deploy/grafana/hnp-sidecar.json"

type dashPanel struct {
	Title   string      `json:"title"`
	Type    string      `json:"type"`
	Panels  []dashPanel `json:"panels"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// probe describes one metric name and collects nothing: registering it
// fails exactly when the registry already has a metric of that name.
type probe struct{ desc *prometheus.Desc }

func (p probe) Describe(ch chan<- *prometheus.Desc) { ch <- p.desc }
func (p probe) Collect(chan<- prometheus.Metric)    {}

// registered says whether reg has a collector describing name, whether or
// not it has exported a sample yet (a CounterVec without children is
// described but not gathered).
func registered(t *testing.T, reg *prometheus.Registry, name string) bool {
	t.Helper()
	p := probe{prometheus.NewDesc(name, "dashboard test probe", nil, nil)}
	if err := reg.Register(p); err != nil {
		return true
	}
	require.True(t, reg.Unregister(p))
	return false
}

var (
	metricRef = regexp.MustCompile(`\b(?:hnp|go|process)_[a-zA-Z0-9_]+\b`)
	byClause  = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	matchers  = regexp.MustCompile(`\{([^}]*)\}`)
	labelName = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
)

// TestDashboardQueriesExistingMetrics reads every panel's queries in the
// Grafana dashboard and checks that each metric they name is one the
// service registers (histograms through _bucket, _sum, _count), that those
// suffixes are only used on histograms, and that the labels they group or
// match by are the metric's. The service is built as in production with
// NetBox and Argo CD configured (so drift's and the syncer's metrics
// exist) and one webhook processed
// (so the labelled series exist and their types and labels can be read).
func TestDashboardQueriesExistingMetrics(t *testing.T) {
	b, err := os.ReadFile(dashboardFile)
	require.NoError(t, err)
	var dash struct {
		SchemaVersion int         `json:"schemaVersion"`
		Panels        []dashPanel `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(b, &dash))
	require.GreaterOrEqual(t, dash.SchemaVersion, 36)

	srv := redisenv.Start(t)
	cfg, err := config.LoadConfig(env(map[string]string{
		"HNP_REDIS_URL": srv.URL(), "HNP_WEBHOOK_SECRET": testSecret, "HNP_API_TOKEN": testToken,
		"HNP_LISTEN_ADDR": "127.0.0.1:0", "HNP_GIT_WORKDIR": t.TempDir(),
		// Never contacted but by the one reconcile below, which fails.
		"HNP_NETBOX_URL": "http://127.0.0.1:1", "HNP_NETBOX_TOKEN": "0123456789abcdef0123456789abcdef01234567",
		"HNP_RECONCILE_INTERVAL": "0", "HNP_DRIFT_INTERVAL": "0", "HNP_QUEUE_COALESCE_WINDOW": "10ms",
		"HNP_QUEUE_BACKOFF_BASE": "10ms", "HNP_QUEUE_BACKOFF_MAX": "20ms", "HNP_QUEUE_MAX_ATTEMPTS": "2",
		"HNP_QUEUE_POLL_INTERVAL": "20ms",
		// Argo CD on (REST, never reached): its syncer's metrics exist.
		"HNP_ARGOCD_URL": "http://127.0.0.1:1", "HNP_ARGOCD_TOKEN": "argocd-token-for-tests",
	}))
	require.NoError(t, err)
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	require.NoError(t, err)
	require.NoError(t, a.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, a.Stop(ctx))
	})
	ta := &testApp{App: a, url: "http://" + a.Addr()}
	require.Equal(t, 202, postHook(t, ta, sampleBody(t), testSecret).StatusCode)
	require.Eventually(t, func() bool { // the reconcile failed against the absent NetBox: dead-lettered
		s, err := a.stores.queue.Stats(context.Background())
		return err == nil && s.Dead == 1
	}, 20*time.Second, 20*time.Millisecond)

	mfs, err := a.reg.Gather()
	require.NoError(t, err)
	types := map[string]dto.MetricType{}
	labels := map[string]map[string]bool{}
	for _, mf := range mfs {
		types[mf.GetName()] = mf.GetType()
		ls := map[string]bool{"job": true, "instance": true}
		if mf.GetType() == dto.MetricType_HISTOGRAM {
			ls["le"] = true
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				ls[l.GetName()] = true
			}
		}
		labels[mf.GetName()] = ls
	}

	var walk func([]dashPanel)
	seen := map[string]bool{}
	count := 0
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			count++
			require.NotEmpty(t, p.Title)
			require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
			for _, tg := range p.Targets {
				refs := metricRef.FindAllString(tg.Expr, -1)
				require.NotEmpty(t, refs, "panel %q: no metric in %q", p.Title, tg.Expr)
				var used []string
				for _, m := range byClause.FindAllStringSubmatch(tg.Expr, -1) {
					for l := range strings.SplitSeq(m[1], ",") {
						used = append(used, strings.TrimSpace(l))
					}
				}
				for _, m := range matchers.FindAllStringSubmatch(tg.Expr, -1) {
					for _, l := range labelName.FindAllStringSubmatch(m[1], -1) {
						used = append(used, l[1])
					}
				}
				for _, ref := range refs {
					base := metricName(t, a.reg, types, p.Title, ref)
					seen[base] = true
					ls, known := labels[base]
					if !known {
						continue // registered, no series yet: its labels are not known
					}
					for _, l := range used {
						require.True(t, ls[l], "panel %q: %s has no label %q (%q)", p.Title, base, l, tg.Expr)
					}
				}
			}
		}
	}
	walk(dash.Panels)
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	t.Logf("%d panels query %d metrics, all registered: %s", count, len(names), strings.Join(names, ", "))
}

// metricName resolves a metric named in a query to the registered metric:
// the name itself, or a histogram's through its series suffixes.
func metricName(t *testing.T, reg *prometheus.Registry, types map[string]dto.MetricType, panel, ref string) string {
	t.Helper()
	if registered(t, reg, ref) {
		typ, ok := types[ref]
		require.True(t, !ok || typ != dto.MetricType_HISTOGRAM, "panel %q: histogram %s is queried without _bucket, _sum or _count", panel, ref)
		return ref
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(ref, suffix)
		if ok && registered(t, reg, base) {
			typ, known := types[base]
			require.True(t, !known || typ == dto.MetricType_HISTOGRAM || typ == dto.MetricType_SUMMARY && suffix != "_bucket",
				"panel %q: %s is a %s, not a histogram", panel, ref, typ)
			return base
		}
	}
	require.Failf(t, "metric not exported", "panel %q queries %s, which the service does not export", panel, ref)
	return ""
}
