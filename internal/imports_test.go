// Package internal_test checks the import direction ARCHITECTURE.md draws.
package internal_test

import (
	"bufio"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/githedgehog/hnp-sidecar/"

// allowed reads the rooms table of ARCHITECTURE.md: package → the packages
// of ours it may import.
func allowed(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open("../ARCHITECTURE.md")
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	rules := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "|")
		if len(cells) != 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "internal/") && strings.TrimSpace(cells[1]) != "webhooks" {
			continue
		}
		var may []string
		for _, p := range strings.Split(cells[3], ",") {
			if p = strings.TrimSpace(p); p != "" {
				may = append(may, p)
			}
		}
		rules[strings.TrimSpace(cells[1])] = may
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, rules, "ARCHITECTURE.md has no rooms table")
	return rules
}

// imports lists each package's own imports of ours (tests excluded), or
// its test imports.
func imports(t *testing.T, format string) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", format, "../...").Output()
	require.NoError(t, err)
	got := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, module) {
				got[pkg] = append(got[pkg], strings.TrimPrefix(imp, module))
			}
		}
		if _, ok := got[pkg]; !ok {
			got[pkg] = nil
		}
	}
	return got
}

// Every product package is in the map, and imports only what its row
// allows: the arrows point one way.
func TestImportsFollowArchitecture(t *testing.T) {
	rules := allowed(t)
	for pkg, imps := range imports(t, "{{.ImportPath}} {{join .Imports \" \"}}") {
		if !strings.HasPrefix(pkg, "internal/") || strings.HasPrefix(pkg, "internal/testenv") {
			continue
		}
		may, ok := rules[pkg]
		require.True(t, ok, "%s is not in ARCHITECTURE.md's rooms table: add its row", pkg)
		for _, imp := range imps {
			require.True(t, slices.Contains(may, imp), "%s imports %s, which ARCHITECTURE.md does not allow it", pkg, imp)
		}
	}
	for pkg := range rules {
		_, err := os.Stat("../" + pkg)
		require.NoError(t, err, "ARCHITECTURE.md names %s, which does not exist", pkg)
	}
}

// Test rigs stay out of the product, and tests find their fixtures under
// internal/testenv, not under test/.
func TestRigsOnlyInTests(t *testing.T) {
	for pkg, imps := range imports(t, "{{.ImportPath}} {{join .Imports \" \"}}") {
		if strings.HasPrefix(pkg, "internal/testenv") || strings.HasPrefix(pkg, "test/") {
			continue
		}
		for _, imp := range imps {
			require.False(t, strings.HasPrefix(imp, "internal/testenv"), "%s imports the test rig %s outside its tests", pkg, imp)
		}
	}
	for pkg, imps := range imports(t, "{{.ImportPath}} {{join .TestImports \" \"}} {{join .XTestImports \" \"}}") {
		if !strings.HasPrefix(pkg, "internal/") {
			continue
		}
		for _, imp := range imps {
			require.False(t, strings.HasPrefix(imp, "test/"), "%s's tests import %s: fixtures live under internal/testenv", pkg, imp)
		}
	}
}
