package gitaccess

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Credentials for one remote; never written into a clone's config.
type Credentials struct {
	Username string
	Token    string // password or token for HTTP(S)
	// SSHKeyFile is a private key for ssh:// and scp-like URLs.
	SSHKeyFile string
}

func (c Credentials) empty() bool { return c == Credentials{} }

func (c Credentials) check() error {
	if c.SSHKeyFile == "" {
		return nil
	}
	if _, err := os.Stat(c.SSHKeyFile); err != nil {
		return fmt.Errorf("ssh key file: %w", err)
	}
	return nil
}

// credEntry is one set of credentials and what it is for.
type credEntry struct {
	entry
	creds Credentials
}

// fileEntry is one entry of the credentials file.
type fileEntry struct {
	Username   string `json:"username"`
	Token      string `json:"token"`
	TokenFile  string `json:"token_file"`
	SSHKeyFile string `json:"ssh_key_file"`
}

// loadCredentials reads the credentials file: a YAML map from a host
// ("github.com", "git.example.com:8443") or URL prefix
// ("https://github.com/acme/") to username, token or token_file, and
// ssh_key_file. Unknown fields are errors. "" reads nothing.
func loadCredentials(path string) ([]credEntry, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("credentials file: %w", err)
	}
	var m map[string]fileEntry
	if err := yaml.UnmarshalStrict(b, &m); err != nil {
		return nil, fmt.Errorf("credentials file %s: %w", path, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []credEntry
	var errs []error
	seen := map[string]string{}
	for _, k := range keys {
		fe := m[k]
		e, err := parseEntry(strings.TrimSpace(k))
		if err != nil {
			errs = append(errs, fmt.Errorf("credentials file %s: %q: %w", path, k, err))
			continue
		}
		id := e.raw
		if e.host {
			id = e.remote.hostPort()
		}
		if prev, ok := seen[id]; ok {
			errs = append(errs, fmt.Errorf("credentials file %s: %q and %q are the same remote", path, prev, k))
			continue
		}
		seen[id] = k
		c := Credentials{Username: fe.Username, Token: fe.Token, SSHKeyFile: fe.SSHKeyFile}
		if fe.TokenFile != "" {
			if fe.Token != "" {
				errs = append(errs, fmt.Errorf("credentials file %s: %q: set token or token_file, not both", path, k))
				continue
			}
			t, err := os.ReadFile(fe.TokenFile)
			if err != nil {
				errs = append(errs, fmt.Errorf("credentials file %s: %q: token_file: %w", path, k, err))
				continue
			}
			c.Token = strings.TrimRight(string(t), "\r\n")
		}
		if err := c.check(); err != nil {
			errs = append(errs, fmt.Errorf("credentials file %s: %q: %w", path, k, err))
			continue
		}
		out = append(out, credEntry{entry: e, creds: c})
	}
	return out, errors.Join(errs...)
}
