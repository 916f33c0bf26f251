package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sidecarGet reads one of the sidecar's own API answers with its token.
func sidecarGet(t *testing.T, s *sidecar, path string, v any) int {
	t.Helper()
	return sidecarDo(t, s, http.MethodGet, path, v)
}

// sidecarDo calls the sidecar's own API with its token; v gets a 200's body.
func sidecarDo(t *testing.T, s *sidecar, method, path string, v any) int {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	}
	return resp.StatusCode
}

type objState struct {
	State   string `json:"state"`
	Commit  string `json:"commit"`
	Reason  string `json:"reason"`
	Gone    bool   `json:"gone"`
	History []struct {
		From, To, Trigger, Commit string
	} `json:"history"`
}

// One edit in NetBox is one reconcile and one commit: the write-back it
// causes (object and fabric fields, journal) comes back from NetBox as
// webhooks that the sidecar recognises and drops. Through the real
// NetBox, its event rules, the sidecar binary, Redis and Git.
func TestWriteBackDoesNotLoop(t *testing.T) {
	env, srv, repoURL, sc := reconcileSetup(t, "noloop", "HNP_QUEUE_COALESCE_WINDOW", "100ms", "HNP_RECONCILE_INTERVAL", "0")
	s := startSidecar(t, sc)
	runBootstrap(t, env, env.Token, s.URL, secret)
	admin := adminClient(t, env)
	fab, _ := admin.newFabric(t, map[string]any{"name": "e2e-noloop",
		"git_repository_url": repoURL, "git_branch": "main", "gitops_directory": "/nl/"})
	fabricID := fab["id"]
	fabricPath := fmt.Sprintf("%sfabrics/%v/", plugin, fabricID)
	require.Eventually(t, func() bool {
		f, _ := admin.call(t, http.MethodGet, fabricPath, nil)
		return f["desired_state_commit"] != "" && f["drift_status"] == "in_sync"
	}, 30*time.Second, 50*time.Millisecond, "the fabric's sync fields never arrived\n%s", s.Logs)
	// The July-2025 plugin's database refuses sync_status in_sync (its
	// CHECK allows synced, which its serializer refuses): the rest of the
	// fields are written, the status is in the fabric's journal.
	require.Eventually(t, func() bool { // written once the other fields are
		return strings.Contains(journalOf(t, admin, "hedgehogfabric", fabricID), "GitOps status of this fabric: sync_status=in_sync")
	}, 30*time.Second, 100*time.Millisecond, "the fabric's sync status never reached its journal\n%s", s.Logs)

	settle := func() (reconciles, commits int, own float64) {
		time.Sleep(3 * time.Second) // NetBox's webhooks for the write-back come within this
		return strings.Count(s.Logs.String(), `"msg":"fabric reconciled"`),
			strings.Count(gitLog(t, srv, "noloop", "%H"), "\n") + 1,
			metric(t, s, `hnp_webhooks_received_total{result="own_change"}`)
	}
	r0, c0, o0 := settle()

	start := time.Now()
	vpc, _ := admin.call(t, http.MethodPost, plugin+"vpcs/", map[string]any{"fabric": fabricID, "name": "vpc-nl",
		"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": "10.11.0.0/24", "vlan": 1110}}}})
	vpcPath := fmt.Sprintf("%svpcs/%v/", plugin, vpc["id"])
	var shown map[string]any
	require.Eventually(t, func() bool {
		shown, _ = admin.call(t, http.MethodGet, vpcPath, nil)
		return shown["git_file_path"] == "nl/managed/vpcs/vpc-nl.yaml" && shown["last_synced"] != nil
	}, 30*time.Second, 50*time.Millisecond, "the VPC's write-back never arrived\n%s", s.Logs)
	t.Logf("VPC saved → git_file_path and last_synced shown in NetBox after %s", time.Since(start).Round(time.Millisecond))
	require.Equal(t, "pending", shown["kubernetes_status"])

	r1, c1, o1 := settle()
	t.Logf("one create: %d reconcile(s), %d commit(s), %.0f own-change webhook(s) dropped", r1-r0, c1-c0, o1-o0)
	require.Equal(t, 1, r1-r0, "exactly one reconcile\n%s", s.Logs)
	require.Equal(t, 1, c1-c0, "exactly one commit")
	require.GreaterOrEqual(t, o1-o0, 2.0, "the VPC's and the fabric's write-back came back and were dropped")

	tip := strings.SplitN(gitLog(t, srv, "noloop", "%H"), "\n", 2)[0]
	var st objState
	require.Equal(t, http.StatusOK, sidecarGet(t, s, "/api/v1/resources/e2e-noloop/VPC/default/vpc-nl", &st))
	require.Equal(t, "committed", st.State)
	require.Equal(t, tip, st.Commit)
	f, _ := admin.call(t, http.MethodGet, fabricPath, nil)
	require.Equal(t, tip, f["desired_state_commit"])
	require.Eventually(t, func() bool { return strings.Contains(journalOf(t, admin, "vpc", vpc["id"]), tip) },
		10*time.Second, 100*time.Millisecond, "the commit never reached the VPC's journal") // written after the fields

	// An edit: again one reconcile, one commit.
	admin.call(t, http.MethodPatch, vpcPath, map[string]any{
		"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": "10.11.1.0/24", "vlan": 1111}}}})
	require.Eventually(t, func() bool {
		return strings.Contains(remoteFile(t, srv, "noloop", "nl/managed/vpcs/vpc-nl.yaml"), "10.11.1.0/24")
	}, 30*time.Second, 50*time.Millisecond)
	r2, c2, _ := settle()
	require.Equal(t, 1, r2-r1, "exactly one reconcile for the edit\n%s", s.Logs)
	require.Equal(t, 1, c2-c1, "exactly one commit for the edit")
	require.Equal(t, http.StatusOK, sidecarGet(t, s, "/api/v1/resources/e2e-noloop/VPC/default/vpc-nl", &st))
	require.Equal(t, []string{"commit_to_git", "edit_resource", "commit_to_git", "observed"},
		[]string{st.History[0].Trigger, st.History[1].Trigger, st.History[2].Trigger, st.History[3].Trigger})

	// Delete: orphaned until the removal is pushed, then gone.
	admin.call(t, http.MethodDelete, vpcPath, nil)
	require.Eventually(t, func() bool { return remoteFile(t, srv, "noloop", "nl/managed/vpcs/vpc-nl.yaml") == "" },
		30*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool {
		return sidecarGet(t, s, "/api/v1/resources/e2e-noloop/VPC/default/vpc-nl", &st) == http.StatusOK && st.Gone
	}, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, "removed_from_git", st.History[0].Trigger)
	require.Equal(t, "orphaned", st.History[1].To)
}

// journalOf is the text of every journal entry on one plugin object
// (model as in netbox_hedgehog.<model>).
func journalOf(t *testing.T, c nbClient, model string, id any) string {
	t.Helper()
	entries, _ := c.call(t, http.MethodGet, fmt.Sprintf("/api/extras/journal-entries/?limit=1000&assigned_object_type=netbox_hedgehog.%s&assigned_object_id=%v", model, id), nil)
	var b strings.Builder
	for _, e := range entries["results"].([]any) {
		fmt.Fprint(&b, e.(map[string]any)["comments"])
		b.WriteString("\n")
	}
	return b.String()
}
