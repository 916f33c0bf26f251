package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGitVariables(t *testing.T) {
	c, err := LoadConfig(env(minimal()))
	require.NoError(t, err)
	require.Equal(t, 64, c.Git.CloneCacheMax)
	require.Equal(t, time.Hour, c.Git.CloneMaxIdle)
	require.False(t, c.Git.AllowHTTP)
	p, err := c.Git.Access()
	require.NoError(t, err)
	require.Len(t, p.Warnings(), 1, "nothing allowed is warned about")

	creds := filepath.Join(t.TempDir(), "creds.yaml")
	require.NoError(t, os.WriteFile(creds, []byte("github.com:\n  username: bot\n  token: t\n"), 0o600))
	c, err = LoadConfig(env(with(minimal(), "HNP_GIT_ALLOWED_URLS", " github.com, https://gitlab.com/acme/ ,,",
		"HNP_GIT_CREDENTIALS_FILE", creds, "HNP_GIT_CLONE_CACHE_MAX", "5", "HNP_GIT_CLONE_MAX_IDLE", "10m")))
	require.NoError(t, err)
	require.Equal(t, []string{"github.com", "https://gitlab.com/acme/"}, c.Git.AllowedURLs)
	require.Equal(t, 5, c.Git.CloneCacheMax)
	p, err = c.Git.Access()
	require.NoError(t, err)
	cr, err := p.CredentialsFor("https://github.com/a/b.git")
	require.NoError(t, err)
	require.Equal(t, "bot", cr.Username)

	for _, tc := range []struct {
		kv   []string
		want string
	}{
		{[]string{"HNP_GIT_ALLOWED_URLS", "file:///srv"}, "HNP_GIT_ALLOWED_URLS"},
		{[]string{"HNP_GIT_DEFAULT_URL", "http://127.0.0.1:9/x.git"}, "HNP_GIT_ALLOW_HTTP=true"},
		{[]string{"HNP_GIT_DEFAULT_URL", "/srv/git/x.git"}, "local paths are never allowed"},
		{[]string{"HNP_GIT_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none")}, "HNP_GIT_CREDENTIALS_FILE"},
		{[]string{"HNP_GIT_ALLOW_HTTP", "maybe"}, "HNP_GIT_ALLOW_HTTP"},
		{[]string{"HNP_GIT_CLONE_CACHE_MAX", "0"}, "HNP_GIT_CLONE_CACHE_MAX"},
	} {
		_, err := LoadConfig(env(with(minimal(), tc.kv...)))
		require.ErrorContains(t, err, tc.want, tc.kv)
	}
	_, err = LoadConfig(env(with(minimal(), "HNP_GIT_DEFAULT_URL", "http://127.0.0.1:9/x.git", "HNP_GIT_ALLOW_HTTP", "true")))
	require.NoError(t, err)
}
