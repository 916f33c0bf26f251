package gitops

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/githedgehog/hnp-sidecar/internal/gitaccess"
	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
)

const testPassphrase = "correct horse battery staple"

// sshKey makes an ed25519 key encrypted with passphrase ("": none), with
// few KDF rounds (the race detector makes the default 16 take seconds).
func sshKey(t *testing.T, passphrase string) (string, ssh.PublicKey) {
	t.Helper()
	return gitenv.SSHKey(t, passphrase, 2)
}

func sshWriter(t *testing.T, url, knownHosts string, creds gitaccess.Credentials) *Writer {
	t.Helper()
	p, err := gitaccess.New(gitaccess.Options{DefaultURL: url, Default: creds})
	require.NoError(t, err)
	w, err := New(Options{WorkDir: t.TempDir(), Access: p, SSHKnownHosts: knownHosts},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	return w
}

// The sidecar's Git writer pushes over SSH with a passphrase-protected
// key to a real SSH Git server (git-shell, git-receive-pack) whose host key
// known_hosts names; a host key known_hosts does not have for the host is
// refused with an error that says so, neutral for the breakers.
func TestSSHPushWithPassphraseKeyAndKnownHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an SSH Git server")
	}
	key, pub := sshKey(t, testPassphrase)
	srv := gitenv.StartSSH(t, pub)
	url := srv.NewRepo(t, "fabric", "main")
	creds := gitaccess.Credentials{SSHKeyFile: key, SSHKeyPassphrase: testPassphrase}

	w := sshWriter(t, url, srv.KnownHosts(t, nil), creds)
	res, err := w.Apply(t.Context(), batch(url))
	require.NoError(t, err)
	require.Equal(t, res.Commit, gitenv.Git(t, srv.Dir("fabric"), "rev-parse", "refs/heads/main"), "the commit is in the bare repository")
	tip, files, err := w.Files(t.Context(), url, "main", "")
	require.NoError(t, err)
	require.Equal(t, res.Commit, tip)
	require.Equal(t, "a", string(files["a"]))

	_, other, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	otherPub, err := ssh.NewPublicKey(other.Public())
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		knownHosts string
		want       string
	}{
		"wrong host key": {srv.KnownHosts(t, otherPub), "did not match HNP_GIT_SSH_KNOWN_HOSTS"},
		"host not in known_hosts": {writeFile(t, "known_hosts", "[127.0.0.1]:1 "+string(ssh.MarshalAuthorizedKey(srv.HostKey))),
			"HNP_GIT_SSH_KNOWN_HOSTS has no host key for [127.0.0.1]"},
		"no known_hosts":  {"", "set HNP_GIT_SSH_KNOWN_HOSTS"},
		"bad known_hosts": {filepath.Join(t.TempDir(), "none"), "HNP_GIT_SSH_KNOWN_HOSTS cannot be read"},
	} {
		t.Run(name, func(t *testing.T) {
			w := sshWriter(t, url, tc.knownHosts, creds)
			_, err := w.Apply(t.Context(), batch(url))
			require.ErrorIs(t, err, gitaccess.ErrRefused)
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), testPassphrase)
			var n interface{ BreakerNeutral() bool }
			require.True(t, errors.As(err, &n) && n.BreakerNeutral(), "an outage to the breakers: %v", err)
			t.Log(err)
		})
	}
	require.Equal(t, res.Commit, gitenv.Git(t, srv.Dir("fabric"), "rev-parse", "refs/heads/main"), "nothing pushed past a refused host key")
}

// A key that is encrypted needs its passphrase, and the right one: the
// access policy refuses to load otherwise (a configuration error at
// start), and a key file that changed since is refused at the push.
func TestSSHKeyPassphrase(t *testing.T) {
	enc, _ := sshKey(t, testPassphrase)
	plain, _ := sshKey(t, "")
	for name, tc := range map[string]struct {
		creds gitaccess.Credentials
		want  string
	}{
		"missing passphrase": {gitaccess.Credentials{SSHKeyFile: enc}, "is encrypted and no passphrase is set for it"},
		"wrong passphrase":   {gitaccess.Credentials{SSHKeyFile: enc, SSHKeyPassphrase: "wrong"}, "the passphrase set for it does not decrypt it"},
		"right passphrase":   {gitaccess.Credentials{SSHKeyFile: enc, SSHKeyPassphrase: testPassphrase}, ""},
		"unencrypted key":    {gitaccess.Credentials{SSHKeyFile: plain}, ""},
		"passphrase no key":  {gitaccess.Credentials{SSHKeyPassphrase: "x"}, "passphrase is set without an ssh key file"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := gitaccess.New(gitaccess.Options{DefaultURL: "ssh://git@git.example.com/fleet.git", Default: tc.creds})
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), "wrong")
			if tc.creds.SSHKeyFile == "" {
				return
			}
			require.ErrorIs(t, err, gitaccess.ErrSSHKey)
			w, err := New(Options{WorkDir: t.TempDir(), Access: fixedAccess{tc.creds}, SSHKnownHosts: writeFile(t, "kh", "")},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			require.NoError(t, err)
			_, err = w.Apply(t.Context(), batch("ssh://git@git.example.com/fleet.git"))
			require.ErrorIs(t, err, gitaccess.ErrRefused)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// fixedAccess allows every URL with the same credentials (a key file that
// changed after the policy was loaded).
type fixedAccess struct{ creds gitaccess.Credentials }

func (f fixedAccess) Resolve(raw string) (gitaccess.Remote, gitaccess.Credentials, error) {
	p, err := gitaccess.New(gitaccess.Options{Allowed: []string{raw}})
	if err != nil {
		return gitaccess.Remote{}, gitaccess.Credentials{}, err
	}
	r, err := p.Check(raw)
	return r, f.creds, err
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// BenchmarkSSHResolve is what each Apply and Files spends on an ssh
// remote's credentials before any network: with the decrypted key kept,
// and decrypting it every time (what the cache saves).
func BenchmarkSSHResolve(b *testing.B) {
	dir := b.TempDir()
	key := filepath.Join(dir, "id")
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", testPassphrase, "-f", key).CombinedOutput()
	require.NoError(b, err, string(out))
	kh := filepath.Join(dir, "known_hosts")
	require.NoError(b, os.WriteFile(kh, []byte("git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"), 0o600))
	url := "ssh://git@git.example.com/fleet.git"
	p, err := gitaccess.New(gitaccess.Options{DefaultURL: url, Default: gitaccess.Credentials{SSHKeyFile: key, SSHKeyPassphrase: testPassphrase}})
	require.NoError(b, err)
	w, err := New(Options{WorkDir: b.TempDir(), Access: p, SSHKnownHosts: kh}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(b, err)
	b.Run("kept", func(b *testing.B) {
		for b.Loop() {
			_, err := w.resolve(url, "main")
			require.NoError(b, err)
		}
	})
	b.Run("decrypted each time", func(b *testing.B) {
		for b.Loop() {
			w.signers = newSigners()
			_, err := w.resolve(url, "main")
			require.NoError(b, err)
		}
	})
}

// A decrypted key is kept until its file changes (a rotated Secret).
func TestSSHKeyKeptUntilItChanges(t *testing.T) {
	key, pub := sshKey(t, testPassphrase)
	other, otherPub := sshKey(t, testPassphrase)
	creds := gitaccess.Credentials{SSHKeyFile: key, SSHKeyPassphrase: testPassphrase}
	s := newSigners()
	a, err := s.get(creds)
	require.NoError(t, err)
	require.Equal(t, pub.Marshal(), a.PublicKey().Marshal())
	b, err := s.get(creds)
	require.NoError(t, err)
	require.Same(t, a, b, "kept")
	content, err := os.ReadFile(other)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(key, content, 0o600))
	c, err := s.get(creds)
	require.NoError(t, err)
	require.Equal(t, otherPub.Marshal(), c.PublicKey().Marshal(), "read again")
	require.Len(t, s.m, 1, "the old content is dropped")
}
