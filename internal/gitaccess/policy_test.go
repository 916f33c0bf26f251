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

// Credentials never go over plain http unless they are for http: a host's
// credentials (the default URL's of an https URL, a host entry of the
// file) are for https and ssh; an http default URL's (a local test
// remote) and an http:// prefix's are for http.
func TestCredentialsKeepToTheirSchemes(t *testing.T) {
	dir := t.TempDir()
	credFile := filepath.Join(dir, "creds.yaml")
	require.NoError(t, os.WriteFile(credFile, []byte(`
github.com:
  token: gh
http://127.0.0.1:9999/repos/:
  token: local-prefix
`), 0o600))
	tok := Credentials{Username: "bot", Token: "t0k"}
	httpsDefault := Options{Allowed: []string{"git.example.com", "github.com", "127.0.0.1:9999"}, AllowHTTP: true,
		DefaultURL: "https://git.example.com/fleet.git", Default: tok, CredentialsFile: credFile}
	httpDefault := Options{AllowHTTP: true, DefaultURL: "http://127.0.0.1:8080/fleet.git", Default: tok}
	sshDefault := Options{AllowHTTP: true, Allowed: []string{"git.example.com"}, DefaultURL: "git@git.example.com:fleet.git", Default: tok}
	for _, tc := range []struct {
		name string
		o    Options
		url  string
		want Credentials
	}{
		{"https default, https", httpsDefault, "https://git.example.com/x.git", tok},
		{"https default, ssh", httpsDefault, "git@git.example.com:x.git", tok},
		{"https default, http", httpsDefault, "http://git.example.com/x.git", Credentials{}},
		{"file host, https", httpsDefault, "https://github.com/a/b.git", Credentials{Token: "gh"}},
		{"file host, ssh", httpsDefault, "ssh://github.com/a/b.git", Credentials{Token: "gh"}},
		{"file host, http", httpsDefault, "http://github.com/a/b.git", Credentials{}},
		{"file http prefix, http", httpsDefault, "http://127.0.0.1:9999/repos/x.git", Credentials{Token: "local-prefix"}},
		{"file http prefix, https", httpsDefault, "https://127.0.0.1:9999/repos/x.git", Credentials{}},
		{"http default, http", httpDefault, "http://127.0.0.1:8080/other.git", tok},
		{"http default, https", httpDefault, "https://127.0.0.1:8080/other.git", Credentials{}},
		{"http default, ssh", httpDefault, "ssh://127.0.0.1:8080/other.git", Credentials{}},
		{"ssh default, ssh", sshDefault, "git@git.example.com:x.git", tok},
		{"ssh default, https", sshDefault, "https://git.example.com/x.git", tok},
		{"ssh default, http", sshDefault, "http://git.example.com/x.git", Credentials{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.o)
			require.NoError(t, err)
			c, err := p.CredentialsFor(tc.url)
			require.NoError(t, err)
			require.Equal(t, tc.want, c)
		})
	}
	// an http default URL's credentials live beside the file's for the
	// same host: they are for different schemes
	_, err := New(Options{AllowHTTP: true, DefaultURL: "http://github.com/a/b.git", Default: tok, CredentialsFile: credFile})
	require.NoError(t, err)
}
