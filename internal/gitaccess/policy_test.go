package gitaccess

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	p, err := New(Options{Allowed: []string{"github.com", "git.example.com:8443", "https://gitlab.com/acme",
		"ssh://git@code.example.org/team/", "http://127.0.0.1:9999/repos/"}, AllowHTTP: true})
	require.NoError(t, err)
	for _, tc := range []struct {
		url, want string // want "": refused
	}{
		{"https://github.com/acme/x.git", "https://github.com/acme/x.git"},
		{"HTTPS://GitHub.COM:443/acme/x.git/", "https://github.com/acme/x.git"},
		{"https://github.com./acme/x.git", "https://github.com/acme/x.git"},
		{"https://bot:tok@github.com/acme/x.git", "https://github.com/acme/x.git"},
		{"git@github.com:acme/x.git", "ssh://github.com/acme/x.git"},
		{"ssh://git@github.com:22/acme/x.git", "ssh://github.com/acme/x.git"},
		{"https://github.com:8443/acme/x.git", ""},
		{"https://git.example.com:8443/a/b.git", "https://git.example.com:8443/a/b.git"},
		{"ssh://git.example.com:8443/a/b.git", "ssh://git.example.com:8443/a/b.git"},
		{"https://git.example.com/a/b.git", ""},
		{"https://gitlab.com/acme", "https://gitlab.com/acme"},
		{"https://gitlab.com/acme.git", "https://gitlab.com/acme.git"},
		{"https://gitlab.com/acme/x.git", "https://gitlab.com/acme/x.git"},
		{"https://gitlab.com/acme-evil/x.git", ""},
		{"https://gitlab.com/acmex", ""},
		{"https://gitlab.com/ACME/x.git", ""},
		{"ssh://gitlab.com/acme/x.git", ""},
		{"https://gitlab.com/acme/../evil/x.git", ""},
		{"https://gitlab.com/acme/%2e%2e/evil/x.git", ""},
		{"https://gitlab.com/acme%2f..%2fevil/x.git", ""},
		{"https://gitlab.com/acme/./x.git", ""},
		{"https://gitlab.com/acme//x.git", ""},
		{"https://gitlab.com/acme/x.git?x=1", ""},
		{"https://gitlab.com/acme/x.git#f", ""},
		{"https://gitlab.com/acme/x%20y.git", "https://gitlab.com/acme/x%20y.git"},
		{"git@code.example.org:team/x.git", "ssh://code.example.org/team/x.git"},
		{"https://code.example.org/team/x.git", ""},
		{"http://127.0.0.1:9999/repos/x.git", "http://127.0.0.1:9999/repos/x.git"},
		{"http://127.0.0.1:9999/other/x.git", ""},
		{"http://github.com/acme/x.git", "http://github.com/acme/x.git"}, // a host admits http when HTTP is allowed
		{"file:///srv/git/x.git", ""},
		{"FILE:///srv/git/x.git", ""},
		{"/srv/git/x.git", ""},
		{"./x.git", ""},
		{"../x.git", ""},
		{"x.git", ""},
		{"git://github.com/acme/x.git", ""},
		{"ext::sh -c touch% /tmp/pwned", ""},
		{"github.com:22/acme/x.git", ""},
		{"https://github.com/acme/x.git\n", "https://github.com/acme/x.git"},
		{"https://github.com/ac\nme/x.git", ""},
		{"https://evil.com\\@github.com/x.git", ""},
		{"https://github.com@evil.com/x.git", ""},
		{"https://evil.com#@github.com/x.git", ""},
		{"", ""},
		// go-git reads the user up to the first '@': these reach evil.com
		// (and evil.com:2222) as user "git.example.com:x".
		{"git.example.com:x@evil.com:a/b", ""},
		{"git.example.com:x@evil.com:2222:a/b", ""},
		{"git@github.com:x@evil.com:a/b", ""},
		{"github.com:acme/x@y.git", ""},
		{"git:x@github.com:acme/x.git", ""},
		{"ssh://github.com/x@evil.com:a/b", "ssh://github.com/x@evil.com:a/b"}, // a URL's path: go-git reads it as one too
	} {
		r, err := p.Check(tc.url)
		if tc.want == "" {
			require.ErrorIs(t, err, ErrRefused, tc.url)
			var n interface{ BreakerNeutral() bool }
			require.True(t, errors.As(err, &n) && n.BreakerNeutral(), tc.url)
			continue
		}
		require.NoError(t, err, tc.url)
		require.Equal(t, tc.want, r.String(), tc.url)
	}
}

// http on port 443 of an allowed host is http: refused unless allowed.
func TestHTTPNeedsItsSwitch(t *testing.T) {
	p, err := New(Options{Allowed: []string{"github.com"}})
	require.NoError(t, err)
	_, err = p.Check("http://github.com/acme/x.git")
	require.ErrorContains(t, err, "HNP_GIT_ALLOW_HTTP")
	_, err = New(Options{Allowed: []string{"http://127.0.0.1:8/x"}})
	require.ErrorContains(t, err, "HNP_GIT_ALLOW_HTTP")
}

func TestDefaultURLIsTheDefaultAllowList(t *testing.T) {
	p, err := New(Options{DefaultURL: "https://git.example.com/fleet/gitops.git", Default: Credentials{Username: "bot", Token: "t0k"}})
	require.NoError(t, err)
	require.Equal(t, []string{"git.example.com"}, p.Allowed())
	_, c, err := p.Resolve("https://git.example.com/other/repo.git")
	require.NoError(t, err)
	require.Equal(t, Credentials{Username: "bot", Token: "t0k"}, c)
	_, c, err = p.Resolve("git@git.example.com:fleet/gitops.git")
	require.NoError(t, err)
	require.Equal(t, "bot", c.Username, "the host's credentials, over ssh too (the key file is what ssh uses)")
	_, err = p.Check("https://github.com/acme/x.git")
	require.ErrorContains(t, err, "HNP_GIT_ALLOWED_URLS")
	require.Empty(t, p.Warnings())
}

func TestNothingAllowedRefusesAllAndWarns(t *testing.T) {
	p, err := New(Options{Default: Credentials{Token: "t"}})
	require.NoError(t, err)
	require.Len(t, p.Warnings(), 2)
	_, err = p.Check("https://github.com/acme/x.git")
	require.ErrorIs(t, err, ErrRefused)
	require.ErrorContains(t, err, "no Git remote is allowed")
}

func TestCredentialsGoOnlyWhereTheyAreFor(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "gh")
	require.NoError(t, os.WriteFile(tokenFile, []byte("from-file\n"), 0o600))
	credFile := filepath.Join(dir, "creds.yaml")
	require.NoError(t, os.WriteFile(credFile, []byte(`
github.com:
  username: gh-bot
  token_file: `+tokenFile+`
https://github.com/acme/secret/:
  username: acme-bot
  token: acme
git.example.com:8443:
  token: example
`), 0o600))
	p, err := New(Options{Allowed: []string{"github.com", "git.example.com:8443", "gitlab.com"},
		DefaultURL: "https://default.example/x.git", Default: Credentials{Token: "default"}, CredentialsFile: credFile})
	require.NoError(t, err)
	for url, want := range map[string]Credentials{
		"https://github.com/acme/x.git":            {Username: "gh-bot", Token: "from-file"},
		"https://github.com/acme/secret/x.git":     {Username: "acme-bot", Token: "acme"},
		"https://github.com/acme/secret-other.git": {Username: "gh-bot", Token: "from-file"},
		"https://git.example.com:8443/a/b.git":     {Token: "example"},
		"https://gitlab.com/a/b.git":               {},
	} {
		c, err := p.CredentialsFor(url)
		require.NoError(t, err, url)
		require.Equal(t, want, c, url)
	}
	_, err = p.CredentialsFor("https://default.example/x.git")
	require.ErrorIs(t, err, ErrRefused, "an explicit allow-list replaces the default host")
}

func TestBadConfigurationIsAnError(t *testing.T) {
	dir := t.TempDir()
	n := 0
	write := func(s string) string {
		n++
		p := filepath.Join(dir, fmt.Sprintf("c%d.yaml", n))
		require.NoError(t, os.WriteFile(p, []byte(s), 0o600))
		return p
	}
	for name, o := range map[string]Options{
		"bad entry":        {Allowed: []string{"file:///x"}},
		"local path":       {Allowed: []string{"/srv/git"}},
		"bad default":      {DefaultURL: "/srv/git/x.git"},
		"unknown field":    {CredentialsFile: write("github.com:\n  tokn: x\n")},
		"token twice":      {CredentialsFile: write("github.com:\n  token: x\n  token_file: /x\n")},
		"missing file":     {CredentialsFile: filepath.Join(dir, "none")},
		"same host twice":  {CredentialsFile: write("github.com:\n  token: x\nGitHub.com:\n  token: y\n")},
		"default and file": {DefaultURL: "https://github.com/a/b", Default: Credentials{Token: "x"}, CredentialsFile: write("github.com:\n  token: y\n")},
		"missing key":      {DefaultURL: "https://github.com/a/b", Default: Credentials{SSHKeyFile: filepath.Join(dir, "nokey")}},
	} {
		_, err := New(o)
		require.Error(t, err, name)
	}
}
