// Package netboxenv starts one private NetBox 4.7 (test/netbox/up.sh) per
// test process and stops it at the end. A cold machine needs ~6 minutes
// (pip install and migrate); later starts restore the cached venv and
// database dump in seconds.
package netboxenv

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Env is a running NetBox. Token and TokenV1 belong to the superuser
// hnp-sidecar; TokenRestricted (v2) to RestrictedUser, a user that is not a
// superuser, with object permissions on every netbox_hedgehog model and
// view/add on journal entries: like the real plugin, git-repos-api/ shows it
// only the Git repositories it created.
type Env struct {
	URL, Token, TokenV1, AdminUser, AdminPassword string
	TokenRestricted, RestrictedUser               string
}

// shared is the process's NetBox: started on first use, stopped by Main.
var shared struct {
	once  sync.Once
	state string
	env   Env
	err   error
}

// scripts is test/netbox, found from this source file.
func scripts() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "test", "netbox")
}

// Get returns the process's NetBox, starting it if needed. Skipped under
// -short.
func Get(t testing.TB) Env {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real NetBox 4.7 (test/netbox/up.sh); skipped under -short")
	}
	shared.once.Do(func() {
		shared.state = filepath.Join(os.TempDir(), fmt.Sprintf("hnp-test-netbox-%d", os.Getpid()))
		start := time.Now()
		cmd := exec.Command(filepath.Join(scripts(), "up.sh"))
		cmd.Env = append(os.Environ(), "HNP_NETBOX_STATE="+shared.state)
		if out, err := cmd.CombinedOutput(); err != nil {
			shared.err = fmt.Errorf("test/netbox/up.sh: %w\n%s", err, out)
			return
		}
		vars, err := readEnvFile(filepath.Join(shared.state, "env"))
		if err != nil {
			shared.err = err
			return
		}
		shared.env = Env{URL: vars["NETBOX_URL"], Token: vars["NETBOX_TOKEN"], TokenV1: vars["NETBOX_TOKEN_V1"],
			AdminUser: vars["NETBOX_ADMIN_USER"], AdminPassword: vars["NETBOX_ADMIN_PASSWORD"],
			TokenRestricted: vars["NETBOX_TOKEN_RESTRICTED"], RestrictedUser: vars["NETBOX_RESTRICTED_USER"]}
		fmt.Printf("NetBox %s ready in %s\n", shared.env.URL, time.Since(start).Round(time.Second))
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.env
}

// Main runs the tests and then stops the NetBox they started. Call it from
// TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	if shared.state != "" {
		cmd := exec.Command(filepath.Join(scripts(), "down.sh"), "--purge")
		cmd.Env = append(os.Environ(), "HNP_NETBOX_STATE="+shared.state)
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "test/netbox/down.sh: %v\n%s", err, out)
		}
	}
	return code
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
