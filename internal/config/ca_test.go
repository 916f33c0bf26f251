package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/tlsca"
)

func file(t *testing.T, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, content, 0o600))
	return p
}

// The SSH and CA settings are checked at load, each error naming its
// variable and never the passphrase.
func TestGitSSHAndCAVariables(t *testing.T) {
	key, pub := gitenv.SSHKey(t, "s3cret-passphrase", 1)
	kh := file(t, "known_hosts", []byte("git.example.com "+string(ssh.MarshalAuthorizedKey(pub))))
	ca := tlsca.New(t).File(t)
	sshURL := "ssh://git@git.example.com/fleet.git"

	c, err := LoadConfig(env(with(minimal(), "HNP_GIT_DEFAULT_URL", sshURL, "HNP_GIT_SSH_KEY_FILE", key,
		"HNP_GIT_SSH_KEY_PASSPHRASE", "s3cret-passphrase", "HNP_GIT_SSH_KNOWN_HOSTS", kh,
		"HNP_GIT_CA_FILE", ca, "HNP_NETBOX_CA_FILE", ca)))
	require.NoError(t, err)
	require.Equal(t, kh, c.Git.SSHKnownHosts)
	require.NotEmpty(t, c.Git.CABundle)
	require.NotEmpty(t, c.NetBox.CABundle)
	require.NotContains(t, c.LogValue().String(), "s3cret-passphrase")
	cr, err := c.Git.Access()
	require.NoError(t, err)
	creds, err := cr.CredentialsFor(sshURL)
	require.NoError(t, err)
	pemKey, err := creds.SSHKeyPEM()
	require.NoError(t, err)
	_, err = ssh.ParsePrivateKey(pemKey)
	require.NoError(t, err, "the decrypted key (for Argo CD) needs no passphrase")

	pass := file(t, "pass", []byte("s3cret-passphrase\n"))
	_, err = LoadConfig(env(with(minimal(), "HNP_GIT_DEFAULT_URL", sshURL, "HNP_GIT_SSH_KEY_FILE", key,
		"HNP_GIT_SSH_KEY_PASSPHRASE_FILE", pass, "HNP_GIT_SSH_KNOWN_HOSTS", kh)))
	require.NoError(t, err, "the passphrase from a _FILE")

	for name, tc := range map[string]struct {
		kv   []string
		want string
	}{
		"no known_hosts for ssh": {[]string{"HNP_GIT_DEFAULT_URL", sshURL, "HNP_GIT_SSH_KEY_FILE", key, "HNP_GIT_SSH_KEY_PASSPHRASE", "s3cret-passphrase"},
			"HNP_GIT_SSH_KNOWN_HOSTS is required for Git over SSH"},
		"scp-like allowed URL": {[]string{"HNP_GIT_ALLOWED_URLS", "git@git.example.com:fleet/"}, "HNP_GIT_SSH_KNOWN_HOSTS is required"},
		"missing passphrase": {[]string{"HNP_GIT_DEFAULT_URL", sshURL, "HNP_GIT_SSH_KEY_FILE", key, "HNP_GIT_SSH_KNOWN_HOSTS", kh},
			"HNP_GIT_SSH_KEY_FILE, HNP_GIT_SSH_KEY_PASSPHRASE or HNP_GIT_CREDENTIALS_FILE: the SSH key cannot be used: " + key + " is encrypted"},
		"wrong passphrase": {[]string{"HNP_GIT_DEFAULT_URL", sshURL, "HNP_GIT_SSH_KEY_FILE", key, "HNP_GIT_SSH_KEY_PASSPHRASE", "not-it-at-all", "HNP_GIT_SSH_KNOWN_HOSTS", kh},
			"the passphrase set for it does not decrypt it"},
		"unreadable known_hosts": {[]string{"HNP_GIT_SSH_KNOWN_HOSTS", filepath.Join(t.TempDir(), "none")}, "HNP_GIT_SSH_KNOWN_HOSTS"},
		"bad known_hosts":        {[]string{"HNP_GIT_SSH_KNOWN_HOSTS", file(t, "kh", []byte("host not-a-key\n"))}, "not a readable known_hosts file"},
		"git CA missing":         {[]string{"HNP_GIT_CA_FILE", filepath.Join(t.TempDir(), "none")}, "HNP_GIT_CA_FILE"},
		"git CA no certificate":  {[]string{"HNP_GIT_CA_FILE", file(t, "ca", []byte("hello"))}, "HNP_GIT_CA_FILE=\""},
		"netbox CA no certificate": {[]string{"HNP_NETBOX_CA_FILE", file(t, "ca", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))},
			"HNP_NETBOX_CA_FILE"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadConfig(env(with(minimal(), tc.kv...)))
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), "not-it-at-all")
			require.NotContains(t, err.Error(), "s3cret-passphrase")
		})
	}

	b, err := LoadBootstrapConfig(env(map[string]string{"HNP_NETBOX_URL": "https://netbox.example.com",
		"HNP_NETBOX_TOKEN": "0123456789abcdef0123456789abcdef01234567", "HNP_SIDECAR_URL": "http://s:8090",
		"HNP_WEBHOOK_SECRET": "0123456789abcdef", "HNP_NETBOX_CA_FILE": ca}))
	require.NoError(t, err)
	require.NotEmpty(t, b.NetBoxCABundle)
}
