package gitops

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"

	"github.com/githedgehog/hnp-sidecar/internal/gitaccess"
)

// auth is the transport's form of c for r; nil when c has none for r's
// scheme (a token never goes over ssh, nor a key over https). An ssh
// remote always gets the host keys of knownHosts (the path of a
// known_hosts file): never go-git's defaults (~/.ssh/known_hosts, an SSH
// agent), never an unchecked host key. What the sidecar's configuration
// lacks for r is a *gitaccess.RefusedError: no retry helps.
func auth(r gitaccess.Remote, c gitaccess.Credentials, knownHosts string, keys *signers) (transport.AuthMethod, error) {
	switch r.Scheme {
	case "ssh":
		refuse := func(reason string) error { return &gitaccess.RefusedError{URL: r.String(), Reason: reason} }
		if knownHosts == "" {
			return nil, refuse("Git over SSH needs the remote's host key: set HNP_GIT_SSH_KNOWN_HOSTS to a known_hosts file")
		}
		if c.SSHKeyFile == "" {
			return nil, refuse("no SSH key is configured for " + r.HostPort() +
				" (HNP_GIT_SSH_KEY_FILE for the host of HNP_GIT_DEFAULT_URL, or ssh_key_file in HNP_GIT_CREDENTIALS_FILE)")
		}
		signer, err := keys.get(c)
		if err != nil {
			return nil, refuse(strings.TrimPrefix(err.Error(), "gitaccess: "))
		}
		db, err := knownhosts.NewDB(knownHosts)
		if err != nil {
			return nil, refuse("HNP_GIT_SSH_KNOWN_HOSTS cannot be read: " + err.Error())
		}
		hostPort := r.HostPort()
		algos := db.HostKeyAlgorithms(hostPort)
		if len(algos) == 0 {
			return nil, refuse("HNP_GIT_SSH_KNOWN_HOSTS has no host key for " + knownhosts.Normalize(hostPort))
		}
		user := cmp.Or(c.Username, r.User, "git")
		return &gitssh.PublicKeys{User: user, Signer: signer, HostKeyCallbackHelper: gitssh.HostKeyCallbackHelper{
			HostKeyCallback: checkHostKey(db.HostKeyCallback()), HostKeyAlgorithms: algos}}, nil
	case "http", "https":
		if c.Token == "" {
			return nil, nil
		}
		// token-only hosts accept any user name
		return &githttp.BasicAuth{Username: cmp.Or(c.Username, "hnp-sidecar"), Password: c.Token}, nil
	}
	return nil, nil
}

// signers keeps each SSH key decrypted: decrypting one takes its KDF's
// rounds (~0.1 s for ssh-keygen's default) at every resolve otherwise. A
// key file that changes (size or modification time) is read again. Its
// entries are the configured key files, a few.
type signers struct {
	mu sync.Mutex
	m  map[signerKey]ssh.Signer
}

type signerKey struct {
	path, passphrase string
	size             int64
	mod              time.Time
}

func newSigners() *signers { return &signers{m: map[signerKey]ssh.Signer{}} }

func (s *signers) get(c gitaccess.Credentials) (ssh.Signer, error) {
	fi, err := os.Stat(c.SSHKeyFile)
	if err != nil {
		return c.SSHSigner() // its error
	}
	k := signerKey{path: c.SSHKeyFile, passphrase: c.SSHKeyPassphrase, size: fi.Size(), mod: fi.ModTime()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sg, ok := s.m[k]; ok {
		return sg, nil
	}
	sg, err := c.SSHSigner()
	if err != nil {
		return nil, err
	}
	for old := range s.m {
		if old.path == k.path {
			delete(s.m, old) // the file's earlier content
		}
	}
	s.m[k] = sg
	return sg, nil
}

// hostKeyError: the remote's SSH host key is not the one known_hosts has
// for it (or it has none). The remote answered; it is not down.
type hostKeyError struct {
	host, key string
	unknown   bool
}

func (e *hostKeyError) Error() string {
	if e.unknown {
		return fmt.Sprintf("the SSH host key of %s (%s) is not in HNP_GIT_SSH_KNOWN_HOSTS", e.host, e.key)
	}
	return fmt.Sprintf("the SSH host key of %s (%s) did not match HNP_GIT_SSH_KNOWN_HOSTS: "+
		"the remote's key changed, or another server answers for it", e.host, e.key)
}

// checkHostKey turns known_hosts' verdict into a hostKeyError.
func checkHostKey(cb ssh.HostKeyCallback) ssh.HostKeyCallback {
	return func(host string, remote net.Addr, key ssh.PublicKey) error {
		err := cb(host, remote, key)
		var ke *xknownhosts.KeyError
		var re *xknownhosts.RevokedError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ke):
			return &hostKeyError{host: knownhosts.Normalize(host), key: key.Type() + " " + ssh.FingerprintSHA256(key), unknown: len(ke.Want) == 0}
		case errors.As(err, &re):
			return &hostKeyError{host: knownhosts.Normalize(host), key: key.Type() + " " + ssh.FingerprintSHA256(key) + ", revoked"}
		}
		return err
	}
}

// refusedHostKey is the *gitaccess.RefusedError of a push or fetch whose
// remote showed a host key known_hosts does not have for it; nil for any
// other error.
func refusedHostKey(url string, err error) error {
	var hk *hostKeyError
	if !errors.As(err, &hk) {
		return nil
	}
	return &gitaccess.RefusedError{URL: url, Reason: hk.Error()}
}

// refusedCertificate is the *gitaccess.RefusedError of a call whose https
// remote showed a certificate the sidecar does not trust; nil for any
// other error.
func refusedCertificate(url string, err error) error {
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	var he x509.HostnameError
	if !errors.As(err, &ua) && !errors.As(err, &ci) && !errors.As(err, &he) {
		return nil
	}
	var tlsErr *tls.CertificateVerificationError
	msg := err.Error()
	if errors.As(err, &tlsErr) {
		msg = tlsErr.Err.Error()
	}
	return &gitaccess.RefusedError{URL: url, Reason: "its TLS certificate is not trusted: " + msg +
		" (a private CA goes in HNP_GIT_CA_FILE)"}
}
