package replicas

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// moreRQWorkers starts n more NetBox RQ workers beside the one the test's
// NetBox runs (HNP_REPLICAS_RQWORKERS, default 2): one worker delivers
// about five webhooks a second, in order, which is slower than the stream
// and hides the replicas' concurrency. Production NetBox runs several, and
// then webhooks also arrive out of order. The NetBox is the one
// internal/testenv/netbox started for this process (its state directory is
// named by the process id; its venv is in ~/.cache/hnp-sidecar).
func moreRQWorkers(t *testing.T) int {
	t.Helper()
	n := 2
	if v, err := strconv.Atoi(os.Getenv("HNP_REPLICAS_RQWORKERS")); err == nil && v >= 0 {
		n = v
	}
	state := filepath.Join(os.TempDir(), fmt.Sprintf("hnp-test-netbox-%d", os.Getpid()))
	home, _ := os.UserHomeDir()
	venvs, _ := filepath.Glob(filepath.Join(home, ".cache", "hnp-sidecar", "venv-netbox-*", "bin", "netbox"))
	if n == 0 || len(venvs) == 0 {
		t.Logf("no extra NetBox RQ workers (wanted %d, NetBox command found: %v)", n, venvs)
		return 0
	}
	if _, err := os.Stat(state); err != nil {
		t.Logf("no extra NetBox RQ workers: %v", err)
		return 0
	}
	for i := range n {
		cmd := exec.Command(venvs[0], "rqworker")
		cmd.Env = append(os.Environ(), "NETBOX_ROOT="+state)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		logf, err := os.Create(filepath.Join(t.TempDir(), fmt.Sprintf("rqworker-%d.log", i)))
		if err == nil {
			cmd.Stdout, cmd.Stderr = logf, logf
		}
		if err := cmd.Start(); err != nil {
			t.Logf("extra RQ worker: %v", err)
			return i
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		t.Cleanup(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
		})
	}
	return n
}
