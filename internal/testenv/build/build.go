// Package build builds the hnp-sidecar binary for tests that run it, once
// per test process and set of -ldflags, as `make build` does.
package build

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// built are this process's binaries, by -ldflags.
var built struct {
	mu   sync.Mutex
	dir  string
	bins map[string]string
}

// Sidecar returns cmd/hnp-sidecar built with ldflags ("" for none).
func Sidecar(t testing.TB, ldflags string) string {
	t.Helper()
	built.mu.Lock()
	defer built.mu.Unlock()
	if bin, ok := built.bins[ldflags]; ok {
		return bin
	}
	if built.dir == "" {
		dir, err := os.MkdirTemp("", "hnp-sidecar-bin-")
		if err != nil {
			t.Fatalf("build: %v", err)
		}
		built.dir, built.bins = dir, map[string]string{}
	}
	bin := filepath.Join(built.dir, fmt.Sprintf("hnp-sidecar-%d", len(built.bins)))
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	cmd := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, "./cmd/hnp-sidecar")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: go build: %v\n%s", err, out)
	}
	built.bins[ldflags] = bin
	return bin
}

// Cleanup removes the binaries; call it from TestMain after m.Run.
func Cleanup() {
	built.mu.Lock()
	defer built.mu.Unlock()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
		built.dir, built.bins = "", nil
	}
}
