// Package gitaccess decides which Git remotes the sidecar may reach, and
// with which credentials: an allow-list of hosts and URL prefixes, the
// schemes https and ssh (http only when allowed), and credentials per host
// that are never handed to a URL they are not for. Git URLs come from
// NetBox and are untrusted: every one is checked here before any network
// or file access.
package gitaccess

import (
	"errors"
	"fmt"
	"strings"

	"github.com/githedgehog/hnp-sidecar/internal/redact"
)

// ErrRefused: the policy does not allow the URL. The user's configuration
// (NetBox or HNP_GIT_ALLOWED_URLS) must change; no retry helps.
var ErrRefused = errors.New("gitaccess: Git URL refused")

// RefusedError says why a URL was refused.
type RefusedError struct {
	URL    string // the URL as given, with any credentials removed
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("gitaccess: Git URL %s refused: %s", e.URL, e.Reason)
}

// Unwrap makes a RefusedError match ErrRefused.
func (e *RefusedError) Unwrap() error { return ErrRefused }

// BreakerNeutral: no remote was called; a refusal says nothing about one.
func (e *RefusedError) BreakerNeutral() bool { return true }

// Options configure a Policy.
type Options struct {
	// Allowed are hosts ("github.com", "git.example.com:8443") and URL
	// prefixes ("https://github.com/acme/"). Empty: the host of
	// DefaultURL.
	Allowed []string
	// DefaultURL is the repository of fabrics that name none.
	DefaultURL string
	// AllowHTTP admits http:// remotes (a local test remote).
	AllowHTTP bool
	// Default are the credentials of DefaultURL's host, and only of it,
	// over DefaultURL's scheme family: https and ssh for an https or ssh
	// URL, http alone for an http URL.
	Default Credentials
	// CredentialsFile is a YAML file of credentials per host or URL
	// prefix (see LoadCredentials).
	CredentialsFile string
}

// Policy is the set of remotes the sidecar may reach. It is immutable and
// safe for concurrent use.
type Policy struct {
	allowed   []entry
	allowHTTP bool
	creds     []credEntry
	warnings  []string
}

// New builds a Policy; each bad entry is an error naming it.
func New(o Options) (*Policy, error) {
	p := &Policy{allowHTTP: o.AllowHTTP}
	var errs []error
	for _, raw := range o.Allowed {
		if raw = strings.TrimSpace(raw); raw == "" {
			continue
		}
		e, err := parseEntry(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("allowed URL %q: %w", raw, err))
			continue
		}
		if e.remote.Scheme == "http" && !o.AllowHTTP {
			errs = append(errs, fmt.Errorf("allowed URL %q is http://: set HNP_GIT_ALLOW_HTTP=true to allow plain http", raw))
		}
		p.allowed = append(p.allowed, e)
	}
	var def entry
	if o.DefaultURL != "" {
		r, err := parse(o.DefaultURL, false)
		if err != nil {
			errs = append(errs, fmt.Errorf("default URL %s: %w", redact.URL(o.DefaultURL), err))
		} else {
			if r.Scheme == "http" && !o.AllowHTTP {
				errs = append(errs, fmt.Errorf("default URL %s is http://: set HNP_GIT_ALLOW_HTTP=true to allow plain http", r))
			}
			def = entry{raw: r.hostPort(), host: true, remote: Remote{Host: r.Host, Port: r.Port, Scheme: r.Scheme}}
			if len(p.allowed) == 0 {
				p.allowed = []entry{def}
			}
		}
	}
	creds, err := loadCredentials(o.CredentialsFile)
	errs = append(errs, err)
	p.creds = creds
	if !o.Default.empty() {
		if def.raw == "" {
			p.warnings = append(p.warnings, "HNP_GIT_USERNAME, HNP_GIT_TOKEN and HNP_GIT_SSH_KEY_FILE apply only to the host of HNP_GIT_DEFAULT_URL, "+
				"which is not set: they are not used (name hosts in HNP_GIT_CREDENTIALS_FILE)")
		} else {
			schemes := schemesOf(def.remote.Scheme)
			for _, c := range p.creds {
				// a host entry of the file is for https and ssh: only an
				// http default URL's credentials live beside it
				if c.host && c.remote.Host == def.remote.Host && c.remote.Port == def.remote.Port && def.remote.Scheme != "http" {
					errs = append(errs, fmt.Errorf("credentials of %s are both in HNP_GIT_CREDENTIALS_FILE and in HNP_GIT_USERNAME/TOKEN/SSH_KEY_FILE: set them in one place", def.raw))
				}
			}
			// the default URL's scheme family: an https (or ssh) URL's
			// credentials never go over plain http
			p.creds = append(p.creds, credEntry{entry: def, schemes: schemes, creds: o.Default})
		}
	}
	if err := o.Default.check(); err != nil {
		errs = append(errs, err)
	}
	if len(p.allowed) == 0 {
		p.warnings = append(p.warnings, "no Git remote is allowed (neither HNP_GIT_ALLOWED_URLS nor HNP_GIT_DEFAULT_URL is set): every fabric is refused")
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("gitaccess: %w", err)
	}
	return p, nil
}

// Warnings are what start-up should log: a policy that allows nothing,
// credentials that apply nowhere.
func (p *Policy) Warnings() []string { return p.warnings }

// Allowed lists the allow-list as configured (for start-up logs and Argo
// CD's project).
func (p *Policy) Allowed() []string {
	out := make([]string, len(p.allowed))
	for i, e := range p.allowed {
		out[i] = e.raw
	}
	return out
}

// Check returns raw's canonical Remote when the policy allows it, and a
// *RefusedError (ErrRefused) otherwise. It only reads the text.
func (p *Policy) Check(raw string) (Remote, error) {
	r, err := parse(strings.TrimSpace(raw), false)
	if err != nil {
		return Remote{}, &RefusedError{URL: redact.Text(raw), Reason: err.Error()}
	}
	if r.Scheme == "http" && !p.allowHTTP {
		return Remote{}, &RefusedError{URL: r.String(), Reason: "plain http is not allowed (use https, or set HNP_GIT_ALLOW_HTTP=true for a local test remote)"}
	}
	if len(p.allowed) == 0 {
		return Remote{}, &RefusedError{URL: r.String(), Reason: "no Git remote is allowed: set HNP_GIT_ALLOWED_URLS (or HNP_GIT_DEFAULT_URL)"}
	}
	for _, e := range p.allowed {
		if e.matches(r) {
			return r, nil
		}
	}
	return Remote{}, &RefusedError{URL: r.String(), Reason: "it is not in HNP_GIT_ALLOWED_URLS (add its host " + r.hostPort() + " or a prefix of it)"}
}

// Resolve is Check and the credentials for the remote.
func (p *Policy) Resolve(raw string) (Remote, Credentials, error) {
	r, err := p.Check(raw)
	if err != nil {
		return Remote{}, Credentials{}, err
	}
	return r, p.credentials(r), nil
}

// CredentialsFor returns the credentials for raw (what Argo CD's
// repository Secret for that URL carries); ErrRefused when the policy
// does not allow raw.
func (p *Policy) CredentialsFor(raw string) (Credentials, error) {
	_, c, err := p.Resolve(raw)
	return c, err
}

// credentials picks the most specific entry matching r: a URL prefix over
// a host, a longer prefix over a shorter one. None: no credentials.
func (p *Policy) credentials(r Remote) Credentials {
	best, bestLen := Credentials{}, -1
	for _, c := range p.creds {
		if !c.applies(r) {
			continue
		}
		n := 0
		if !c.host {
			n = 1 + len(c.remote.Path)
		}
		if n > bestLen {
			best, bestLen = c.creds, n
		}
	}
	return best
}
