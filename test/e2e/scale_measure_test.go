package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// scaleRow is one fabric size's figures.
type scaleRow struct {
	size                   int
	created, pushed, quiet time.Duration // setup, from the first POST
	shown                  int           // states written back at quiet
	edits                  []editCost
	bulkN                  int
	bulkSave, bulkPushed   time.Duration // from the bulk PATCH's start
	bulkWritten            time.Duration // from the end of NetBox's save
	rssKB                  int
	logs                   map[string]int
}

// editCost is one single-object edit.
type editCost struct {
	pushed        time.Duration
	reads, writes int
	runs          float64
}

// edit changes VPC id's VLAN to vlan through NetBox's REST API and
// measures until the file is on the remote and NetBox is quiet again.
func (r *scaleRig) edit(dir string, id any, name string, g, vlan int) editCost {
	t := r.t
	path := dir + "/managed/vpcs/" + name + ".yaml"
	want := fmt.Sprintf("vlan: %d\n", vlan)
	reads0, writes0 := r.proxy.counts()
	runs0 := metricSum(t, r.s, "hnp_reconcile_runs_total")
	start := time.Now()
	r.admin.call(t, http.MethodPatch, fmt.Sprintf("%svpcs/%v/", plugin, id), map[string]any{"spec": vpcSpec(g, vlan)})
	r.until(5*time.Minute, 10*time.Millisecond, func() bool { return strings.Contains(remoteFile(t, r.srv, "scale", path), want) },
		"the edit of %s never reached Git", name)
	c := editCost{pushed: time.Since(start)}
	r.quiet(2*time.Second, 10*time.Minute, "after the edit of "+name)
	reads1, writes1 := r.proxy.counts()
	c.reads, c.writes = reads1-reads0, writes1-writes0
	c.runs = metricSum(t, r.s, "hnp_reconcile_runs_total") - runs0
	require.Len(t, r.syncedSince([]any{id}, start), 1, "the edit of %s reached Git but its state was not written back into NetBox\n%s",
		name, tail(r.s.Logs.String(), 40))
	t.Logf("edit of %s: pushed after %s; %d NetBox reads, %d writes, %.0f reconcile(s)", name,
		c.pushed.Round(time.Millisecond), c.reads, c.writes, c.runs)
	return c
}

// bulk edits up to 1,000 of the fabric's VPCs in one NetBox request.
func (r *scaleRig) bulk(row *scaleRow, dir string, ids []any, base int) {
	t := r.t
	const vlan = 4090
	row.bulkN = min(1000, len(ids))
	body := make([]map[string]any, row.bulkN)
	for i := range row.bulkN {
		body[i] = map[string]any{"id": ids[i], "spec": vpcSpec(base+i, vlan)}
	}
	start := time.Now()
	require.Len(t, r.admin.callList(t, http.MethodPatch, plugin+"vpcs/", body), row.bulkN)
	row.bulkSave = time.Since(start)
	r.until(15*time.Minute, 200*time.Millisecond, func() bool { return r.grep(dir, fmt.Sprintf("vlan: %d$", vlan)) == row.bulkN },
		"the bulk edit of %d VPCs never fully reached Git", row.bulkN)
	row.bulkPushed = time.Since(start)
	r.until(30*time.Minute, 2*time.Second, func() bool { return len(r.syncedSince(ids[:row.bulkN], start)) == row.bulkN },
		"the bulk edit of %d VPCs was never all written back into NetBox", row.bulkN)
	row.bulkWritten = time.Since(start) - row.bulkSave
	t.Logf("bulk edit of %d VPCs: NetBox saved them in %s, all pushed at %s, all written back %s after the save", row.bulkN,
		row.bulkSave.Round(time.Millisecond), row.bulkPushed.Round(time.Millisecond), row.bulkWritten.Round(time.Millisecond))
	r.quiet(3*time.Second, 30*time.Minute, "after the bulk edit")
}

// syncedSince returns those of ids whose state NetBox shows as written
// back since (git_file_path set, last_synced after it), as writtenBack.
func (r *scaleRig) syncedSince(ids []any, since time.Time) []any {
	want := map[any]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var done []any
	for offset := 0; ; offset += 1000 {
		page, _ := r.admin.call(r.t, http.MethodGet, fmt.Sprintf("%svpcs/?limit=1000&offset=%d", plugin, offset), nil)
		results, _ := page["results"].([]any)
		for _, res := range results {
			o := res.(map[string]any)
			synced, _ := o["last_synced"].(string)
			at, err := time.Parse(time.RFC3339Nano, synced)
			if want[o["id"]] && o["git_file_path"] != "" && err == nil && at.After(since.Add(-time.Second)) {
				done = append(done, o["id"])
			}
		}
		if len(results) < 1000 {
			return done
		}
	}
}

// quiet waits until the sidecar sent NetBox nothing for quiet and
// NetBox's background queues are empty: NetBox delivers webhooks one by
// one from its RQ queue (about 14 a second here), and the write-back's
// own-change webhooks (its PATCHes', dropped on arrival) may still wait
// there ahead of the next edit's (first measured: the first edit after
// 1,000 creates waited 1m51s behind them, which is NetBox's queue, not
// the sidecar).
func (r *scaleRig) quiet(quiet, timeout time.Duration, what string) time.Time {
	deadline := time.Now().Add(timeout)
	for {
		last := r.proxy.waitQuiet(r.t, quiet, time.Until(deadline), what, r.s.Logs.String)
		if r.netboxQueued() == 0 {
			return last
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: NetBox's background queues did not empty within %s\n%s", what, timeout, tail(r.s.Logs.String(), 40))
		}
		time.Sleep(time.Second)
	}
}

// netboxQueued is how many jobs wait or run in NetBox's RQ queues.
func (r *scaleRig) netboxQueued() int {
	page, _ := r.admin.call(r.t, http.MethodGet, "/api/core/background-queues/?limit=100", nil)
	n := 0
	results, _ := page["results"].([]any)
	for _, q := range results {
		m, _ := q.(map[string]any)
		jobs, _ := m["jobs"].(float64)
		started, _ := m["started_jobs"].(float64)
		n += int(jobs + started)
	}
	return n
}

// until polls ok every interval and fails the test after timeout.
func (r *scaleRig) until(timeout, interval time.Duration, ok func() bool, format string, args ...any) {
	r.t.Helper()
	for deadline := time.Now().Add(timeout); !ok(); time.Sleep(interval) {
		if time.Now().After(deadline) {
			r.t.Fatalf("%s (waited %s)\n%s", fmt.Sprintf(format, args...), timeout, tail(r.s.Logs.String(), 40))
		}
	}
}

// grep counts the VPC files under dir at the remote's tip that have a
// line matching the extended regular expression re.
func (r *scaleRig) grep(dir, re string) int {
	out, _ := exec.Command("git", "-C", r.srv.Dir("scale"), "grep", "-l", "-E", re, "main", "--", dir+"/managed/vpcs/").Output()
	return strings.Count(string(out), "\n")
}

var logMsg = regexp.MustCompile(`"msg":"([^"]*)"`)

// logDelta counts the sidecar's log lines about reconciles since the
// last call, by message.
func (r *scaleRig) logDelta() map[string]int {
	all := map[string]int{}
	for _, m := range logMsg.FindAllStringSubmatch(r.s.Logs.String(), -1) {
		if strings.Contains(strings.ToLower(m[1]), "reconcil") {
			all[m[1]]++
		}
	}
	delta := map[string]int{}
	for msg, n := range all {
		if d := n - r.logs[msg]; d > 0 {
			delta[msg] = d
		}
	}
	r.logs = all
	return delta
}

// peakRSS is a process's VmHWM in kB.
func peakRSS(t *testing.T, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^VmHWM:\s+(\d+) kB`).FindSubmatch(b)
	require.NotNil(t, m, "no VmHWM in /proc/%d/status", pid)
	kb, _ := strconv.Atoi(string(m[1]))
	return kb
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(b))[:min(3, len(strings.Fields(string(b))))], " ")
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
