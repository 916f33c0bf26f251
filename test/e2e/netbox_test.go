package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// netboxEnv is a running private NetBox (test/netbox/up.sh).
type netboxEnv struct {
	URL, Token, TokenV1, AdminUser, AdminPassword string
}

var nb struct {
	once  sync.Once
	state string
	env   netboxEnv
	err   error
}

// netboxUp starts one NetBox for the whole package (stopped in TestMain).
// A cold machine needs ~6 minutes (pip install and migrate); later runs
// restore the cached venv and database dump in seconds.
func netboxUp(t *testing.T) netboxEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real NetBox 4.7 (test/netbox/up.sh); skipped under -short")
	}
	nb.once.Do(func() {
		nb.state = filepath.Join(os.TempDir(), fmt.Sprintf("hnp-e2e-netbox-%d", os.Getpid()))
		start := time.Now()
		cmd := exec.Command("../netbox/up.sh")
		cmd.Env = append(os.Environ(), "HNP_NETBOX_STATE="+nb.state)
		out, err := cmd.CombinedOutput()
		if err != nil {
			nb.err = fmt.Errorf("test/netbox/up.sh: %w\n%s", err, out)
			return
		}
		vars, err := readEnvFile(filepath.Join(nb.state, "env"))
		if err != nil {
			nb.err = err
			return
		}
		nb.env = netboxEnv{URL: vars["NETBOX_URL"], Token: vars["NETBOX_TOKEN"], TokenV1: vars["NETBOX_TOKEN_V1"],
			AdminUser: vars["NETBOX_ADMIN_USER"], AdminPassword: vars["NETBOX_ADMIN_PASSWORD"]}
		fmt.Printf("NetBox %s ready in %s\n", nb.env.URL, time.Since(start).Round(time.Second))
	})
	require.NoError(t, nb.err)
	return nb.env
}

func netboxDown() {
	if nb.state == "" {
		return
	}
	cmd := exec.Command("../netbox/down.sh", "--purge")
	cmd.Env = append(os.Environ(), "HNP_NETBOX_STATE="+nb.state)
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "test/netbox/down.sh: %v\n%s", err, out)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	netboxDown()
	if build.path != "" {
		_ = os.RemoveAll(filepath.Dir(build.path))
	}
	os.Exit(code)
}

func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok {
			vars[strings.TrimPrefix(k, "export ")] = strings.Trim(v, `'"`)
		}
	}
	return vars, sc.Err()
}

// nbClient calls NetBox's REST API with one token.
type nbClient struct {
	url, auth string
}

// call sends a JSON request and returns the decoded answer and NetBox's
// X-Request-ID.
func (c nbClient) call(t *testing.T, method, path string, body any) (map[string]any, string) {
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
	require.Less(t, resp.StatusCode, 300, "%s %s: %s", method, path, b)
	var out map[string]any
	if len(b) > 0 {
		require.NoError(t, json.Unmarshal(b, &out))
	}
	return out, resp.Header.Get("X-Request-ID")
}

// adminClient provisions a v2 token for the admin user, so changes are
// made by a person, not by the sidecar's own NetBox user.
func adminClient(t *testing.T, env netboxEnv) nbClient {
	t.Helper()
	tok, _ := nbClient{url: env.URL}.call(t, http.MethodPost, "/api/users/tokens/provision/",
		map[string]string{"username": env.AdminUser, "password": env.AdminPassword})
	return nbClient{url: env.URL, auth: fmt.Sprintf("Bearer nbt_%s.%s", tok["key"], tok["token"])}
}

// runBootstrap runs `hnp-sidecar bootstrap` and returns its output.
func runBootstrap(t *testing.T, env netboxEnv, token, sidecarURL, secret string) string {
	t.Helper()
	cmd := exec.Command(binary(t), "bootstrap")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HNP_NETBOX_URL=" + env.URL, "HNP_NETBOX_TOKEN=" + token,
		"HNP_SIDECAR_URL=" + sidecarURL, "HNP_WEBHOOK_SECRET=" + secret}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return string(out)
}
