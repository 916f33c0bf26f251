package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
)

// A bulk change of N objects in one NetBox request (HNP_BULK_OBJECTS,
// default 1,000, at most 2,000): how many commits it becomes and how long
// until all are pushed, against the baseline of how long NetBox itself
// takes to save them; the same for a bulk edit; and how long until every
// object's state is written back into NetBox. Opt-in (`make bench-bulk`):
// it takes minutes and measures, it does not judge.
func TestBulkChangeThroughNetBox(t *testing.T) {
	if os.Getenv("HNP_BENCH_BULK") == "" {
		t.Skip("a measurement, not a test: run `make bench-bulk` (HNP_BENCH_BULK=1)")
	}
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("HNP_BULK_OBJECTS")); err == nil && v > 0 && v <= 2000 {
		n = v
	}
	env, srv, repoURL, sc := reconcileSetup(t, "bulk", "HNP_RECONCILE_INTERVAL", "0", "HNP_HANDLER_TIMEOUT", "10m")
	s := startSidecar(t, sc)
	runBootstrap(t, env, env.Token, s.URL, secret)
	admin := adminClient(t, env)
	name := fmt.Sprintf("e2e-bulk-%d", time.Now().UnixNano()%100000)
	fab, _ := admin.newFabric(t, map[string]any{"name": name,
		"git_repository_url": repoURL, "git_branch": "main", "gitops_directory": "/b/"})
	s.waitLog(t, 30*time.Second, `"msg":"fabric reconciled"`, name)

	vpcs := func(vlanBase int, ids []any) []map[string]any {
		out := make([]map[string]any, n)
		for i := range n {
			out[i] = map[string]any{"fabric": fab["id"], "name": fmt.Sprintf("bk-%04d", i), "spec": map[string]any{"subnets": map[string]any{
				"default": map[string]any{"subnet": fmt.Sprintf("10.%d.%d.0/24", 100+i/256, i%256), "vlan": vlanBase + i}}}}
			if ids != nil {
				out[i]["id"] = ids[i]
			}
		}
		return out
	}
	measure := func(what, method string, vlanBase int, ids []any) []any {
		c0 := commits(t, srv)
		start := time.Now()
		saved := admin.callList(t, method, plugin+"vpcs/", vpcs(vlanBase, ids))
		baseline := time.Since(start)
		require.Len(t, saved, n)
		require.Eventually(t, func() bool { return filesWithVLAN(t, srv, vlanBase/1000) == n }, 10*time.Minute, 100*time.Millisecond,
			"%s never fully reached Git\n%s", what, s.Logs)
		pushed := time.Since(start)
		t.Logf("%s of %d VPCs in one NetBox request: NetBox saved them in %s (baseline); all on the remote after %s (%.2f× the baseline); %d commit(s)",
			what, n, baseline.Round(time.Millisecond), pushed.Round(time.Millisecond), pushed.Seconds()/baseline.Seconds(), commits(t, srv)-c0)
		require.Eventually(t, func() bool { return writtenBack(t, admin, fab["id"], start) == n }, 10*time.Minute, time.Second,
			"write-back never completed\n%s", s.Logs)
		t.Logf("%s: every VPC's git_file_path and last_synced shown in NetBox after %s", what, time.Since(start).Round(time.Millisecond))
		ids = make([]any, n)
		for i, o := range saved {
			ids[i] = o["id"]
		}
		return ids
	}
	ids := measure("create", http.MethodPost, 1000, nil)
	measure("edit", http.MethodPatch, 2000, ids)
	time.Sleep(3 * time.Second)
	t.Logf("reconciles in all: %d; own-change webhooks dropped: %.0f", strings.Count(s.Logs.String(), `"msg":"fabric reconciled"`),
		metric(t, s, `hnp_webhooks_received_total{result="own_change"}`))
}

func commits(t *testing.T, srv *gitenv.Server) int {
	return strings.Count(gitLog(t, srv, "bulk", "%H"), "\n") + 1
}

// filesWithVLAN counts the VPC files at the remote's tip whose VLAN is
// <thousands>xxx: 1xxx after the create, 2xxx after the edit.
func filesWithVLAN(t *testing.T, srv *gitenv.Server, thousands int) int {
	t.Helper()
	out, _ := exec.Command("git", "-C", srv.Dir("bulk"), "grep", "-l", "-E", fmt.Sprintf("vlan: %d[0-9]{3}$", thousands),
		"main", "--", "b/managed/vpcs/").Output()
	return strings.Count(string(out), "\n")
}

// writtenBack counts the fabric's VPCs whose state NetBox shows as
// committed after since.
func writtenBack(t *testing.T, c nbClient, fabric any, since time.Time) int {
	t.Helper()
	done := 0
	for offset := 0; ; offset += 1000 {
		page, _ := c.call(t, http.MethodGet, fmt.Sprintf("%svpcs/?limit=1000&offset=%d", plugin, offset), nil)
		results, _ := page["results"].([]any)
		for _, r := range results {
			o := r.(map[string]any)
			synced, _ := o["last_synced"].(string)
			at, err := time.Parse(time.RFC3339Nano, synced)
			if o["fabric"] == fabric && o["git_file_path"] != "" && err == nil && at.After(since.Add(-time.Second)) {
				done++
			}
		}
		if len(results) < 1000 {
			return done
		}
	}
}

// callList sends a bulk request (a JSON list) and returns NetBox's list.
func (c nbClient) callList(t *testing.T, method, path string, body []map[string]any) []map[string]any {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(method, c.url+path, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	client := &http.Client{Timeout: 10 * time.Minute}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	out, _ := io.ReadAll(resp.Body)
	require.Less(t, resp.StatusCode, 300, "%s %s: %s", method, path, out)
	var list []map[string]any
	require.NoError(t, json.Unmarshal(out, &list))
	return list
}
