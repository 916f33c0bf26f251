package gitenv

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHServer serves bare repositories over SSH for tests: an SSH server
// (golang.org/x/crypto/ssh) on 127.0.0.1 with its own ed25519 host key,
// public-key authentication against one authorized key, and every command
// run through the real `git-shell -c` (so only git-upload-pack,
// git-receive-pack and git-upload-archive run), as sshd with git-shell
// as the login shell does. Repositories are addressed by their absolute
// path: ssh://git@127.0.0.1:<port>/<Root>/<name>.git.
type SSHServer struct {
	Root    string        // directory holding the bare repositories
	Addr    string        // 127.0.0.1:<port>
	HostKey ssh.PublicKey // the server's host key
	l       net.Listener
	wg      sync.WaitGroup
}

// StartSSH serves bare repositories under a temporary directory until t
// ends; only a client authenticating with authorized gets in.
func StartSSH(t testing.TB, authorized ssh.PublicKey) *SSHServer {
	t.Helper()
	shell, err := exec.LookPath("git-shell")
	if err != nil {
		t.Fatalf("gitenv: git-shell not found: %v", err)
	}
	_, hk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(hk)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if string(k.Marshal()) == string(authorized.Marshal()) {
			return &ssh.Permissions{}, nil
		}
		return nil, errors.New("gitenv: key not authorized")
	}}
	cfg.AddHostKey(signer)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SSHServer{Root: t.TempDir(), Addr: l.Addr().String(), HostKey: signer.PublicKey(), l: l}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c, cfg, shell) }()
		}
	}()
	t.Cleanup(func() { _ = l.Close(); s.wg.Wait() })
	return s
}

// URL is the ssh:// URL of repository name.
func (s *SSHServer) URL(name string) string { return "ssh://git@" + s.Addr + s.Dir(name) }

// Dir is the bare repository's directory.
func (s *SSHServer) Dir(name string) string { return filepath.Join(s.Root, name+".git") }

// NewRepo creates an empty bare repository whose HEAD is branch and
// returns its ssh:// URL.
func (s *SSHServer) NewRepo(t testing.TB, name, branch string) string {
	t.Helper()
	Git(t, "", "init", "-q", "--bare", "-b", branch, s.Dir(name))
	return s.URL(name)
}

// KnownHosts writes a known_hosts file naming key as the server's host
// key and returns its path (key nil: the server's own).
func (s *SSHServer) KnownHosts(t testing.TB, key ssh.PublicKey) string {
	t.Helper()
	if key == nil {
		key = s.HostKey
	}
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, []byte(knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (s *SSHServer) serve(c net.Conn, cfg *ssh.ServerConfig, shell string) {
	defer func() { _ = c.Close() }()
	conn, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	defer func() { _ = conn.Close() }()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go s.session(ch, creqs, shell)
	}
}

// session runs the one exec request of a channel through git-shell.
func (s *SSHServer) session(ch ssh.Channel, reqs <-chan *ssh.Request, shell string) {
	defer func() { _ = ch.Close() }()
	for req := range reqs {
		if req.Type != "exec" {
			_ = req.Reply(req.Type == "env", nil) // GIT_PROTOCOL and the like
			continue
		}
		var p struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &p); err != nil {
			_ = req.Reply(false, nil)
			return
		}
		_ = req.Reply(true, nil)
		cmd := exec.Command(shell, "-c", p.Command)
		cmd.Dir, cmd.Env = s.Root, []string{"HOME=" + s.Root, "GIT_CONFIG_NOSYSTEM=1", "PATH=" + os.Getenv("PATH")}
		cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
		// the client may keep its side open after the command ends: copy
		// its input without waiting for its end
		stdin, err := cmd.StdinPipe()
		if err == nil {
			err = cmd.Start()
		}
		if err == nil {
			go func() { _, _ = io.Copy(stdin, ch); _ = stdin.Close() }()
			err = cmd.Wait()
		}
		code := uint32(0)
		if err != nil {
			code = 1
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = uint32(ee.ExitCode())
			} else {
				_, _ = fmt.Fprintln(ch.Stderr(), err)
			}
		}
		_ = ch.CloseWrite()
		status := make([]byte, 4)
		binary.BigEndian.PutUint32(status, code)
		_, _ = ch.SendRequest("exit-status", false, status)
		return
	}
}

// SSHKey makes an ed25519 key with the real ssh-keygen, encrypted with
// passphrase ("": not encrypted) in rounds of its KDF (0: ssh-keygen's
// default, 16; fewer keep tests under the race detector fast), and returns
// its path and public key.
func SSHKey(t testing.TB, passphrase string, rounds int) (string, ssh.PublicKey) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "id_ed25519")
	args := []string{"-q", "-t", "ed25519", "-N", passphrase, "-C", "hnp-sidecar-test", "-f", p}
	if rounds > 0 {
		args = append(args, "-a", strconv.Itoa(rounds))
	}
	if out, err := exec.Command("ssh-keygen", args...).CombinedOutput(); err != nil {
		t.Fatalf("gitenv: ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(p + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return p, k
}
