package gitaccess

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
)

// The credentials file's per-host SSH key passphrase, inline or from a
// file; each refused entry names the file, the host and what is wrong,
// never the passphrase.
func TestCredentialsFileSSHKeyPassphrase(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(s), 0o600))
		return p
	}
	key, pub := gitenv.SSHKey(t, "pass-phrase-1", 1)
	passFile := write("pass", "pass-phrase-1\n")

	for name, tc := range map[string]struct {
		file, want string
	}{
		"inline":          {"git.example.com:\n  ssh_key_file: " + key + "\n  ssh_key_passphrase: pass-phrase-1\n", ""},
		"from a file":     {"git.example.com:\n  ssh_key_file: " + key + "\n  ssh_key_passphrase_file: " + passFile + "\n", ""},
		"both":            {"git.example.com:\n  ssh_key_file: " + key + "\n  ssh_key_passphrase: pass-phrase-1\n  ssh_key_passphrase_file: " + passFile + "\n", "set ssh_key_passphrase or ssh_key_passphrase_file, not both"},
		"missing":         {"git.example.com:\n  ssh_key_file: " + key + "\n", `"git.example.com": gitaccess: the SSH key cannot be used: ` + key + " is encrypted"},
		"wrong":           {"git.example.com:\n  ssh_key_file: " + key + "\n  ssh_key_passphrase: guess-phrase\n", "does not decrypt it"},
		"no key":          {"git.example.com:\n  ssh_key_passphrase: pass-phrase-1\n", "passphrase is set without an ssh key file"},
		"unreadable file": {"git.example.com:\n  ssh_key_file: " + key + "\n  ssh_key_passphrase_file: " + filepath.Join(dir, "none") + "\n", "ssh_key_passphrase_file"},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := New(Options{Allowed: []string{"git.example.com"}, CredentialsFile: write(name+".yaml", tc.file)})
			if tc.want != "" {
				require.ErrorContains(t, err, tc.want)
				require.NotContains(t, err.Error(), "pass-phrase-1")
				require.NotContains(t, err.Error(), "guess-phrase")
				return
			}
			require.NoError(t, err)
			c, err := p.CredentialsFor("ssh://git@git.example.com/fleet.git")
			require.NoError(t, err)
			require.Equal(t, "pass-phrase-1", c.SSHKeyPassphrase)
			s, err := c.SSHSigner()
			require.NoError(t, err)
			require.Equal(t, pub.Marshal(), s.PublicKey().Marshal())
		})
	}
}
