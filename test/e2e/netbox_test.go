package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/build"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/fabric"
	netboxenv "github.com/githedgehog/hnp-sidecar/internal/testenv/netbox"
)

func TestMain(m *testing.M) {
	code := netboxenv.Main(m)
	build.Cleanup()
	os.Exit(code)
}

// nbClient calls NetBox's REST API with one token.
type nbClient struct {
	url, auth string
}

// call sends a JSON request and returns the decoded answer and NetBox's
// X-Request-ID.
func (c nbClient) call(t *testing.T, method, path string, body any) (map[string]any, string) {
	t.Helper()
	code, b, h := c.send(t, method, path, body)
	require.Less(t, code, 300, "%s %s: %s", method, path, b)
	var out map[string]any
	if len(b) > 0 {
		require.NoError(t, json.Unmarshal(b, &out))
	}
	return out, h.Get("X-Request-ID")
}

// raw sends a request and returns NetBox's status and body, whatever it is.
func (c nbClient) raw(t *testing.T, method, path string, body any) (int, string) {
	t.Helper()
	code, b, _ := c.send(t, method, path, body)
	return code, string(b)
}

// send sends body (JSON, if not nil) and returns the answer's status, body
// and header.
func (c nbClient) send(t *testing.T, method, path string, body any) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// adminClient provisions a v2 token for the admin user, so changes are
// made by a person, not by the sidecar's own NetBox user.
func adminClient(t *testing.T, env netboxenv.Env) nbClient {
	t.Helper()
	tok, _ := nbClient{url: env.URL}.call(t, http.MethodPost, "/api/users/tokens/provision/",
		map[string]string{"username": env.AdminUser, "password": env.AdminPassword})
	return nbClient{url: env.URL, auth: fmt.Sprintf("Bearer nbt_%s.%s", tok["key"], tok["token"])}
}

// runBootstrap runs `hnp-sidecar bootstrap` and returns its output.
func runBootstrap(t *testing.T, env netboxenv.Env, token, sidecarURL, secret string) string {
	t.Helper()
	cmd := exec.Command(binary(t), "bootstrap")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HNP_NETBOX_URL=" + env.URL, "HNP_NETBOX_TOKEN=" + token,
		"HNP_SIDECAR_URL=" + sidecarURL, "HNP_WEBHOOK_SECRET=" + secret}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return string(out)
}

// newFabric creates a fabric through the REST API with fields, and a
// non-empty watch_crd_types as the plugin requires of REST writes.
func (c nbClient) newFabric(t *testing.T, fields map[string]any) (map[string]any, string) {
	t.Helper()
	return c.call(t, http.MethodPost, plugin+"fabrics/", fabric.WithWatch(fields))
}

// newGitRepository creates a Git repository the way the plugin's API
// takes it (git-repos-api/, with credentials) and returns its id: the
// plugin's answer to the POST has none, so it is found by listing.
func (c nbClient) newGitRepository(t *testing.T, name, gitURL, branch string) any {
	t.Helper()
	c.call(t, http.MethodPost, plugin+"git-repos-api/", map[string]any{"name": name, "url": gitURL, "default_branch": branch,
		"authentication_type": "token", "credentials": map[string]any{"token": "unused-by-the-sidecar"}})
	list, _ := c.call(t, http.MethodGet, plugin+"git-repos-api/?limit=1000", nil)
	for _, r := range list["results"].([]any) {
		if repo := r.(map[string]any); repo["name"] == name {
			return repo["id"]
		}
	}
	t.Fatalf("Git repository %s not listed after its creation", name)
	return nil
}
