package argocd

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDerivedName(t *testing.T) {
	cases := []struct {
		id     int64
		fabric string
		want   string
	}{
		{1, "fab-1", "hnp-1-fab-1"},
		{42, "My Fabric_East.01", "hnp-42-my-fabric-east-01"},
		{7, "--ÄÖ--", "hnp-7"},
		{7, "", "hnp-7"},
		{123, strings.Repeat("a", 100), "hnp-123-" + strings.Repeat("a", 63-len("hnp-123-"))},
		{9, "x" + strings.Repeat("-", 70) + "y", "hnp-9-x-y"},
		{9, strings.Repeat("ab-", 30), "hnp-9-" + strings.TrimRight(strings.Repeat("ab-", 30)[:63-len("hnp-9-")], "-")},
	}
	for _, c := range cases {
		got := DerivedName(c.id, c.fabric)
		require.Equal(t, c.want, got, "%d %q", c.id, c.fabric)
		require.True(t, ValidName(got), got)
	}
}

func TestNamingName(t *testing.T) {
	n := Naming{Namespace: "argocd"}
	cases := []struct {
		requested, want string
		err             bool
	}{
		{"", "hnp-5-fab", false},
		{"hedgehog-fab", "hedgehog-fab", false},
		{"hnp-fab-2", "hnp-fab-2", false},
		{"argocd", "", true},         // someone else's Application
		{"hedgehog-", "", true},      // not a label
		{"Hedgehog-Fab", "", true},   // uppercase
		{"hedgehog-fab\n", "", true}, // $ must not match before a newline
		{"hnp-" + strings.Repeat("a", 60), "", true},
	}
	for _, c := range cases {
		got, err := n.Name(5, "fab", c.requested)
		if c.err {
			require.ErrorIs(t, err, ErrAppName, c.requested)
			require.Contains(t, err.Error(), "gitops_app_name")
			continue
		}
		require.NoError(t, err, c.requested)
		require.Equal(t, c.want, got)
	}
	own := Naming{Pattern: regexp.MustCompile(`^fab-[0-9]+$`)}
	got, err := own.Name(1, "x", "fab-12")
	require.NoError(t, err)
	require.Equal(t, "fab-12", got)
	_, err = own.Name(1, "x", "hedgehog-x")
	require.ErrorIs(t, err, ErrAppName)
}

func TestCompileNamePattern(t *testing.T) {
	_, err := CompileNamePattern("hnp-.*")
	require.ErrorContains(t, err, "anchored")
	_, err = CompileNamePattern("^(x$")
	require.Error(t, err)
	re, err := CompileNamePattern(DefaultNamePattern)
	require.NoError(t, err)
	require.True(t, re.MatchString("hnp-1-a"))
}

func TestNamingNamespaces(t *testing.T) {
	n := Naming{Namespace: "argocd", Destinations: []string{"default", "fab"}}
	ns, err := n.Namespaced("")
	require.NoError(t, err)
	require.Equal(t, "argocd", ns)
	_, err = n.Namespaced("kube-system")
	require.ErrorIs(t, err, ErrAppNamespace)
	d, err := n.Destination("", "default")
	require.NoError(t, err)
	require.Equal(t, "default", d)
	d, err = n.Destination("fab", "default")
	require.NoError(t, err)
	require.Equal(t, "fab", d)
	_, err = n.Destination("kube-system", "default")
	require.ErrorIs(t, err, ErrDestNamespace)
	_, err = Naming{}.Destination("other", "default")
	require.ErrorIs(t, err, ErrDestNamespace)
}

func TestSourcePatterns(t *testing.T) {
	require.Equal(t, []string{"git.example.com:**", "git@git.example.com:**", "https://git.example.com/**",
		"https://github.com/org/repo.git", "https://github.com/org/repo.git/**",
		"ssh://git.example.com/**", "ssh://git@git.example.com/**"},
		SourcePatterns([]string{"git.example.com", "https://bot:pw@github.com/org/repo.git", "git.example.com"}, false))
	require.Equal(t, []string{"http://127.0.0.1:3000/**", "https://127.0.0.1:3000/**", "https://github.com/org",
		"https://github.com/org.git", "https://github.com/org/**", "ssh://127.0.0.1:3000/**", "ssh://git@127.0.0.1:3000/**"},
		SourcePatterns([]string{"127.0.0.1:3000", "https://github.com/org/"}, true))
	// an ssh prefix (the access policy writes scp-like entries as ssh://)
	require.Equal(t, []string{"git@github.com:acme", "git@github.com:acme.git", "git@github.com:acme/**",
		"github.com:acme", "github.com:acme.git", "github.com:acme/**",
		"ssh://git@github.com/acme", "ssh://git@github.com/acme.git", "ssh://git@github.com/acme/**",
		"ssh://github.com/acme", "ssh://github.com/acme.git", "ssh://github.com/acme/**"},
		SourcePatterns([]string{"ssh://github.com/acme/"}, false))
	for _, p := range SourcePatterns([]string{"git.example.com", "ssh://github.com/acme"}, true) {
		require.NotContains(t, p, "*@", "Argo CD escapes a * in the user part: it would never match")
	}
	require.Equal(t, "http://127.0.0.1:3000/**", HostPattern("http://127.0.0.1:3000/fab.git"))
	require.Empty(t, HostPattern("not a url"))
}

func TestRepositorySecretName(t *testing.T) {
	a, b := RepositorySecretName("https://git/a.git"), RepositorySecretName("https://git/b.git")
	require.NotEqual(t, a, b)
	require.Len(t, a, len("hnp-repo-")+64)
	require.Equal(t, a, RepositorySecretName("https://git/a.git"))
}

// FuzzApplicationName: whatever NetBox holds, the name is a valid
// DNS-1123 label of at most 63 characters or a refusal, never a panic;
// the derived name is always valid and stable; a name the pattern accepts
// is valid.
func FuzzApplicationName(f *testing.F) {
	for _, s := range []string{"", "fab", "hedgehog-fab", "hnp-1-x", "argocd", "a\nb", "ÄÖÜ", strings.Repeat("z", 80), "-x-", "hnp-"} {
		f.Add(int64(1), s, s)
	}
	f.Add(int64(-1), "x", "")
	n := Naming{Namespace: "argocd"}
	f.Fuzz(func(t *testing.T, id int64, fabric, requested string) {
		d := DerivedName(id, fabric)
		if !ValidName(d) || len(d) > 63 {
			t.Fatalf("derived %q from (%d, %q) is not a valid name", d, id, fabric)
		}
		if d != DerivedName(id, fabric) {
			t.Fatal("derived name not stable")
		}
		got, err := n.Name(id, fabric, requested)
		if err != nil {
			return
		}
		if !ValidName(got) || len(got) > 63 {
			t.Fatalf("accepted %q (asked %q) is not a valid name", got, requested)
		}
		if requested != "" && got != requested {
			t.Fatalf("accepted %q but got %q", requested, got)
		}
	})
}
