package clusterenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// RepoRoot is the repository's root, found from this source file.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// HedgehogCRDDir is the shared upstream data's hedgehog-crds directory:
// $HNP_UPSTREAM_DIR/hedgehog-crds when set, else ../shared/upstream next to
// the repository, else next to the repository a local clone was made from
// (CI tests a clean clone elsewhere). The first candidate is returned when
// none exists, for the skip message.
func HedgehogCRDDir() string {
	var candidates []string
	if d := os.Getenv("HNP_UPSTREAM_DIR"); d != "" {
		candidates = append(candidates, filepath.Join(d, "hedgehog-crds"))
	}
	candidates = append(candidates, filepath.Join(RepoRoot(), "..", "shared", "upstream", "hedgehog-crds"))
	if out, err := exec.Command("git", "-C", RepoRoot(), "config", "--get", "remote.origin.url").Output(); err == nil {
		origin := strings.TrimPrefix(strings.TrimSpace(string(out)), "file://")
		if filepath.IsAbs(origin) {
			candidates = append(candidates, filepath.Join(origin, "..", "shared", "upstream", "hedgehog-crds"))
		}
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c
		}
	}
	return candidates[0]
}

// BuildScript is test/cluster/build.sh.
func BuildScript() string {
	return filepath.Join(RepoRoot(), "test", "cluster", "build.sh")
}

// Binaries are the built etcd and kube-apiserver.
type Binaries struct {
	Etcd, KubeAPIServer string
}

var built struct {
	once sync.Once
	bins Binaries
	err  error
}

// Build runs test/cluster/build.sh once per process and returns its
// binaries. It is quick when they are cached; a cold build takes minutes and
// needs the Go module proxy.
func Build() (Binaries, error) {
	built.once.Do(func() {
		start := time.Now()
		cmd := exec.Command(BuildScript())
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			built.err = fmt.Errorf("clusterenv: %s: %w\n%s", BuildScript(), err, stderr.String())
			return
		}
		for line := range strings.Lines(string(out)) {
			name, path, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch name {
			case "etcd":
				built.bins.Etcd = path
			case "kube-apiserver":
				built.bins.KubeAPIServer = path
			}
		}
		if built.bins.Etcd == "" || built.bins.KubeAPIServer == "" {
			built.err = fmt.Errorf("clusterenv: %s printed no binaries:\n%s%s", BuildScript(), out, stderr.String())
			return
		}
		if stderr.Len() > 0 { // something was built: show its times
			fmt.Fprintf(os.Stderr, "%sclusterenv: build.sh took %s\n", stderr.String(), time.Since(start).Round(time.Second))
		}
	})
	return built.bins, built.err
}
