// Command render renders the hnp-sidecar chart with Helm's Go packages for
// each value set (no values: the chart's defaults; values/<set>.yaml) and
// lints it with each, like `helm template` and `helm lint --strict`.
// It is a module of its own so that the service's go.mod does not pull in
// Helm; test/chart in the main module applies what it writes to a real
// kube-apiserver with a server-side dry-run.
//
//	go run . -out DIR    writes DIR/<set>.yaml, one per value set
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint/support"
)

// Set is one value set: its name, release name and namespace, and values
// file ("" for the chart's defaults).
type Set struct {
	Name, Release, Namespace, File string
}

// Sets lists the value sets: defaults, then every values/*.yaml; a file's
// release and namespace are "hnp-<set>".
func Sets(dir string) ([]Set, error) {
	files, err := filepath.Glob(filepath.Join(dir, "values", "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	sets := []Set{{Name: "defaults", Release: "hnp-sidecar", Namespace: "hnp-defaults"}}
	for _, f := range files {
		n := strings.TrimSuffix(filepath.Base(f), ".yaml")
		sets = append(sets, Set{Name: n, Release: "hnp-" + n, Namespace: "hnp-" + n, File: f})
	}
	return sets, nil
}

// Render returns the manifest of the chart at chartDir with s's values, as
// `helm template --namespace s.Namespace s.Release chartDir -f s.File`.
func Render(chartDir string, s Set) (string, error) {
	ch, err := loader.Load(chartDir)
	if err != nil {
		return "", err
	}
	vals := map[string]any{}
	if s.File != "" {
		if vals, err = chartutil.ReadValuesFile(s.File); err != nil {
			return "", err
		}
	}
	in := action.NewInstall(&action.Configuration{})
	in.DryRun, in.ClientOnly, in.Replace = true, true, true
	in.ReleaseName, in.Namespace = s.Release, s.Namespace
	in.KubeVersion = &chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}
	rel, err := in.Run(ch, vals)
	if err != nil {
		return "", fmt.Errorf("%s: %w", s.Name, err)
	}
	return rel.Manifest, nil
}

// Lint lints the chart with s's values, strictly; every message is returned.
func Lint(chartDir string, s Set) ([]string, error) {
	vals := map[string]any{}
	if s.File != "" {
		var err error
		if vals, err = chartutil.ReadValuesFile(s.File); err != nil {
			return nil, err
		}
	}
	l := action.NewLint()
	l.Strict, l.Namespace = true, s.Namespace
	res := l.Run([]string{chartDir}, vals)
	var msgs []string
	for _, m := range res.Messages {
		if m.Severity > support.InfoSev { // INFO: "icon is recommended"
			msgs = append(msgs, m.Error())
		}
	}
	for _, e := range res.Errors {
		msgs = append(msgs, e.Error())
	}
	return msgs, nil
}

func main() {
	out := flag.String("out", "", "directory for <set>.yaml")
	chartDir := flag.String("chart", "..", "the chart")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "render: -out is required")
		os.Exit(2)
	}
	sets, err := Sets(".")
	if err == nil {
		err = os.MkdirAll(*out, 0o755)
	}
	for _, s := range sets {
		if err != nil {
			break
		}
		var msgs []string
		if msgs, err = Lint(*chartDir, s); err == nil && len(msgs) > 0 {
			err = fmt.Errorf("lint %s: %s", s.Name, strings.Join(msgs, "; "))
		}
		var m string
		if err == nil {
			m, err = Render(*chartDir, s)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(*out, s.Name+".yaml"), []byte(m), 0o644)
			fmt.Printf("render: %s: release %s in namespace %s, %d objects, lint clean\n", s.Name, s.Release, s.Namespace, strings.Count(m, "\nkind: "))
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
}
