package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/build"
	"github.com/stretchr/testify/require"
)

// buildBinary builds the command once, the way make build does, with the
// version set by -ldflags.
func buildBinary(t *testing.T) string {
	t.Helper()
	return build.Sidecar(t, "-X main.version=v9.9.9-main")
}

func TestMain(m *testing.M) {
	code := m.Run()
	build.Cleanup()
	os.Exit(code)
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	return exit.ExitCode()
}

func TestBinary(t *testing.T) {
	bin := buildBinary(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"version"}, 0, "hnp-sidecar v9.9.9-main\n"},
		{[]string{"--version"}, 0, "hnp-sidecar v9.9.9-main\n"},
		{[]string{"resync", "--help"}, 0, "Usage:\n  hnp-sidecar resync --fabric ID|NAME [flags]"},
		{[]string{"resync"}, 2, `required flag(s) "fabric" not set`},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"resync", "--fabric", "x"}, 1, "hnp-sidecar: config: "},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := exec.Command(bin, tc.args...)
			cmd.Env = []string{}
			out, err := cmd.CombinedOutput()
			require.Equal(t, tc.code, exitCode(t, err), "%s", out)
			require.Contains(t, string(out), tc.want)
		})
	}
}

// SIGINT ends the command's context: resync stops following its job and
// exits 1.
func TestSignalEndsTheCommand(t *testing.T) {
	bin := buildBinary(t)
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"job":{"id":"j1","state":"queued"},"status_url":"/api/v1/jobs/j1"}`))
			return
		}
		polls.Add(1)
		_, _ = w.Write([]byte(`{"id":"j1","fabric":3,"state":"running"}`))
	}))
	defer srv.Close()

	var out bytes.Buffer
	cmd := exec.Command(bin, "resync", "--fabric", "3", "--sidecar-url", srv.URL)
	cmd.Env = []string{"HNP_API_TOKEN=0123456789abcdef"}
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool { return polls.Load() > 0 }, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.Equal(t, 1, exitCode(t, err), "%s", out.String())
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("resync did not stop on SIGINT")
	}
	require.Contains(t, out.String(), "resync: job j1 still running: context canceled")
}
