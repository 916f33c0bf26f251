package gitops

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/githedgehog/hnp-sidecar/internal/gitaccess"
)

// target is an allowed remote branch: where its clone lives and how it is
// reached.
type target struct {
	remote gitaccess.Remote
	auth   transport.AuthMethod
	branch string
	dir    string // the clone's directory
}

// resolve checks url against the access policy and branch against Git's
// rules, and picks the credentials that are for url. It reads nothing
// from the network or the disk (but an SSH key file).
func (w *Writer) resolve(url, branch string) (target, error) {
	r, creds, err := w.opts.Access.Resolve(url)
	if err != nil {
		return target{}, err
	}
	if err := checkEndpoint(r); err != nil {
		return target{}, err
	}
	if err := checkBranch(branch); err != nil {
		return target{}, err
	}
	a, err := auth(r, creds, w.opts.SSHKnownHosts, w.signers)
	if err != nil {
		return target{}, err
	}
	return target{remote: r, auth: a, branch: branch, dir: filepath.Join(w.opts.WorkDir, cloneName(r, branch))}, nil
}

// cloneName is the name of the clone of r's branch in the work directory:
// 16 lowercase hex digits (see isCloneName).
func cloneName(r gitaccess.Remote, branch string) string {
	sum := sha256.Sum256([]byte(r.String() + "\x00" + branch))
	return hex.EncodeToString(sum[:8])
}

// checkEndpoint: go-git reads r's transport URL as r itself. Only the
// transports the policy allows (go-git would open a local path or file://
// itself), and what was checked is what is dialled: the same scheme, host
// and port, else the credentials of an allowed host would go to another.
func checkEndpoint(r gitaccess.Remote) error {
	ep, err := transport.NewEndpoint(r.Transport())
	if err != nil || (ep.Protocol != "https" && ep.Protocol != "http" && ep.Protocol != "ssh") {
		return &gitaccess.RefusedError{URL: r.String(), Reason: "Git does not read it as an https, http or ssh endpoint"}
	}
	if hp := endpointHostPort(ep); ep.Protocol != r.Scheme || hp != r.HostPort() {
		return &gitaccess.RefusedError{URL: r.String(),
			Reason: "Git would reach " + ep.Protocol + "://" + hp + ", not the allowed " + r.Scheme + "://" + r.HostPort()}
	}
	return nil
}

// endpointHostPort is host:port of a go-git endpoint, with the protocol's
// default port filled in, as gitaccess.Remote.HostPort writes it.
func endpointHostPort(ep *transport.Endpoint) string {
	port := strconv.Itoa(ep.Port)
	if ep.Port == 0 {
		port = map[string]string{"https": "443", "http": "80", "ssh": "22"}[ep.Protocol]
	}
	return net.JoinHostPort(strings.Trim(ep.Host, "[]"), port)
}

// open takes t's clone (made on first use) for the caller alone; release
// gives it back to the cache.
func (w *Writer) open(t target) (*clone, func(), error) {
	release := w.clones.acquire(t.dir)
	c, err := openClone(t.dir, t.remote.Transport())
	if err != nil {
		release()
		return nil, nil, err
	}
	c.auth, c.branch, c.caBundle = t.auth, t.branch, w.opts.CABundle
	return c, release, nil
}

// checkBranch applies git check-ref-format's rules to a branch name.
func checkBranch(b string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrBadBranch, b, why) }
	switch {
	case b == "" || b == "@":
		return bad("empty")
	case len(b) > 255:
		return bad("longer than 255 bytes")
	case strings.HasPrefix(b, "/") || strings.HasSuffix(b, "/") || strings.HasSuffix(b, ".") ||
		strings.HasPrefix(b, "-") || strings.HasSuffix(b, ".lock"):
		return bad("starts or ends with '/', '-', '.' or '.lock'")
	case strings.Contains(b, "..") || strings.Contains(b, "//") || strings.Contains(b, "@{") || strings.Contains(b, "/."):
		return bad("contains '..', '//', '@{' or a component starting with '.'")
	case strings.HasPrefix(b, "."):
		return bad("starts with '.'")
	}
	for _, c := range b {
		if c <= ' ' || c == 0x7f || strings.ContainsRune("~^:?*[\\", c) {
			return bad("contains a space, a control character or one of ~^:?*[\\")
		}
	}
	return nil
}
