package e2e

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
)

// The cost of one change against the size of the fabric (issue 17), with
// real NetBox in front of a counting proxy: for each size a fabric of that
// many VPCs (created in bulk POSTs of at most 500), single-object edits
// through NetBox's REST API (time to pushed, the sidecar's NetBox requests
// and reconciles per edit), the sidecar's peak RSS, and a bulk edit of up
// to 1,000 of the fabric's VPCs (NetBox's save as the baseline, time to
// pushed, time until every state is written back). One sidecar and one
// NetBox for every size, a fabric per size. Opt-in (`make bench-scale`,
// HNP_SCALE_SIZES, default 50,1000,5000): it measures, it does not judge.
func TestBenchScale(t *testing.T) {
	if os.Getenv("HNP_BENCH_SCALE") == "" {
		t.Skip("a measurement, not a test: run `make bench-scale` (HNP_BENCH_SCALE=1)")
	}
	sizes := []int{50, 1000, 5000}
	if v := os.Getenv("HNP_SCALE_SIZES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			require.NoError(t, err, "HNP_SCALE_SIZES: %q is not a number", f)
			require.True(t, n > 0 && n <= 20000, "HNP_SCALE_SIZES: %d is not in 1..20000", n)
			sizes = append(sizes, n)
		}
	}
	runScale(t, sizes, 5, true)
}

// The short version of `make bench-scale` inside `make test`: one fabric
// of 50 VPCs and two edits (no bulk edit, to stay short). It asserts that
// every change reaches Git and is written back into NetBox, and the
// counts of issue 17 (never timings): each single edit is one reconcile
// that reads NetBox at most three times (fabric, repository, object).
func TestScaleSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("needs real NetBox, Redis and a Git remote")
	}
	rows := runScale(t, []int{50}, 2, false)
	for _, c := range rows[0].edits {
		require.Equal(t, 1.0, c.runs, "reconciles of one edit")
		require.LessOrEqual(t, c.reads, 3, "NetBox reads of one edit")
	}
}

// scaleRig is one sidecar behind a counting proxy to NetBox, pushing to
// one Git remote; next numbers the VPCs across fabrics, so subnets are
// unique.
type scaleRig struct {
	t     *testing.T
	srv   *gitenv.Server
	s     *sidecar
	proxy *countingProxy
	admin nbClient
	next  int
	logs  map[string]int // the reconcile log lines counted so far
}

func runScale(t *testing.T, sizes []int, edits int, bulk bool) []scaleRow {
	load0 := loadAvg()
	begin := time.Now()
	env, srv, repoURL, sc := reconcileSetup(t, "scale", "HNP_RECONCILE_INTERVAL", "0", "HNP_DRIFT_INTERVAL", "0",
		"HNP_HANDLER_TIMEOUT", "10m")
	r := &scaleRig{t: t, srv: srv, proxy: newCountingProxy(t, env.URL), admin: adminClient(t, env), logs: map[string]int{}}
	sc["HNP_NETBOX_URL"] = r.proxy.URL
	r.s = startSidecar(t, sc)
	runBootstrap(t, env, env.Token, r.s.URL, secret)
	var rows []scaleRow
	for i, size := range sizes {
		rows = append(rows, r.measure(size, edits, bulk, repoURL))
		if i < len(sizes)-1 { // so far, in case a long run is cut short
			t.Logf("the table so far:\n%s", report(rows, edits, load0, loadAvg(), time.Since(begin)))
		}
	}
	t.Logf("\n%s", report(rows, edits, load0, loadAvg(), time.Since(begin)))
	return rows
}

// measure builds a fabric of size VPCs and measures edits on it.
func (r *scaleRig) measure(size, edits int, bulk bool, repoURL string) scaleRow {
	t := r.t
	row := scaleRow{size: size}
	name := fmt.Sprintf("e2e-scale-%d-%d", size, time.Now().UnixNano()%100000)
	dir := fmt.Sprintf("s%d", size)
	fab, _ := r.admin.newFabric(t, map[string]any{"name": name, "git_repository_url": repoURL, "git_branch": "main",
		"gitops_directory": "/" + dir + "/"})
	r.s.waitLog(t, time.Minute, `"msg":"fabric reconciled"`, name)
	r.quiet(3*time.Second, 5*time.Minute, name+": before creating its objects")

	// Setup: bulk creates, all pushed, NetBox quiet again.
	base := r.next
	r.next += size
	start := time.Now()
	var ids []any
	for from := 0; from < size; from += 500 {
		body := make([]map[string]any, 0, 500)
		for i := from; i < min(from+500, size); i++ {
			body = append(body, map[string]any{"fabric": fab["id"], "name": vpcName(size, i), "spec": vpcSpec(base+i, 0)})
		}
		for _, o := range r.admin.callList(t, http.MethodPost, plugin+"vpcs/", body) {
			ids = append(ids, o["id"])
		}
	}
	row.created = time.Since(start)
	require.Len(t, ids, size)
	budget := 10*time.Minute + time.Duration(size)*300*time.Millisecond
	r.until(budget, 200*time.Millisecond, func() bool { return r.grep(dir, `^kind: VPC$`) == size }, "%s: the created VPCs never all reached Git", name)
	row.pushed = time.Since(start)
	row.quiet = r.quiet(3*time.Second, budget, name+": after the creates").Sub(start)
	row.shown = len(r.syncedSince(ids, start))
	t.Logf("%d objects: created in %s, all pushed at %s, NetBox quiet at %s, %d of %d states shown in NetBox",
		size, row.created.Round(time.Millisecond), row.pushed.Round(time.Millisecond), row.quiet.Round(time.Millisecond), row.shown, size)

	for k := range edits {
		i := k * size / edits
		row.edits = append(row.edits, r.edit(dir, ids[i], vpcName(size, i), base+i, 4000+k))
	}
	if bulk {
		r.bulk(&row, dir, ids, base)
	}
	row.rssKB = peakRSS(t, r.s.cmd.Process.Pid)
	row.logs = r.logDelta()
	return row
}

func vpcName(size, i int) string { return fmt.Sprintf("s%d-%05d", size, i) }

// vpcSpec is VPC number g's spec: a subnet of its own in 10.128.0.0/9, a
// VLAN of 100–3899 unless vlan is set (4000 and up: edits).
func vpcSpec(g, vlan int) map[string]any {
	if vlan == 0 {
		vlan = 100 + g%3800
	}
	return map[string]any{"subnets": map[string]any{"default": map[string]any{
		"subnet": fmt.Sprintf("10.%d.%d.0/24", 128+g/256, g%256), "vlan": vlan}}}
}
