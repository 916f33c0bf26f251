package argocdenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	clusterenv "github.com/githedgehog/hnp-sidecar/internal/testenv/cluster"
)

// Paths are the built Argo CD's files.
type Paths struct {
	// Bin holds argocd, the three role symlinks and git-verify-wrapper.sh.
	Bin string
	// Module is Argo CD's module directory in the Go module cache
	// (manifests/crds, manifests/install.yaml).
	Module string
}

// CacheDir is where test/cluster/build-argocd.sh puts its output.
func CacheDir() string {
	base := os.Getenv("HNP_CACHE_DIR")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache", "hnp-sidecar")
	}
	return filepath.Join(base, "cluster", "argocd-"+Version)
}

// BuildScript is test/cluster/build-argocd.sh, found from this source file.
func BuildScript() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "test", "cluster", "build-argocd.sh")
}

// Find returns the built Argo CD, or an error that says how to build it.
func Find() (Paths, error) {
	dir := CacheDir()
	p := Paths{Bin: filepath.Join(dir, "bin")}
	hint := fmt.Sprintf("argocdenv: Argo CD %s is not built; run %s first (a few minutes, ~3 GB)", Version, BuildScript())
	for _, f := range []string{"argocd", "argocd-application-controller", "argocd-repo-server", "argocd-server", "git-verify-wrapper.sh"} {
		if st, err := os.Stat(filepath.Join(p.Bin, f)); err != nil || st.Mode()&0o111 == 0 {
			return p, fmt.Errorf("%s: missing %s", hint, filepath.Join(p.Bin, f))
		}
	}
	m, err := os.ReadFile(filepath.Join(dir, "module-dir"))
	if err != nil {
		return p, fmt.Errorf("%s: %w", hint, err)
	}
	p.Module = strings.TrimSpace(string(m))
	for _, f := range []string{"manifests/install.yaml", "manifests/crds/application-crd.yaml"} {
		if _, err := os.Stat(filepath.Join(p.Module, f)); err != nil {
			return p, fmt.Errorf("%s (the module cache lost it): %w", hint, err)
		}
	}
	return p, nil
}

// InstallManifest is the Argo CD release manifest tests install: the built
// Argo CD module's (Version), else the shared upstream copy of v3.5.1 (next
// to the repository, or $HNP_UPSTREAM_DIR/argocd); t is skipped when
// neither is there.
func InstallManifest(t testing.TB) string {
	t.Helper()
	if p, err := Find(); err == nil {
		return filepath.Join(p.Module, "manifests", "install.yaml")
	}
	f := filepath.Join(filepath.Dir(clusterenv.HedgehogCRDDir()), "argocd", "install-v3.5.1.yaml")
	if _, err := os.Stat(f); err != nil {
		t.Skipf("no Argo CD install manifest: Argo CD %s is not built (test/cluster/build-argocd.sh) and %s is missing", Version, f)
	}
	return f
}
