package gitaccess

import (
	"errors"
	"fmt"
	"os"
	"slices"
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
	// SSHKeyPassphrase decrypts SSHKeyFile ("": the key is not
	// encrypted).
	SSHKeyPassphrase string
}

func (c Credentials) empty() bool { return c == Credentials{} }

// check reads and decrypts the SSH key, so a missing or wrong passphrase
// is found when the configuration is loaded, not at the first push.
func (c Credentials) check() error {
	if c.SSHKeyFile == "" {
		if c.SSHKeyPassphrase != "" {
			return errors.New("an ssh key passphrase is set without an ssh key file")
		}
		return nil
	}
	if _, err := c.SSHSigner(); err != nil {
		return err
	}
	return nil
}

// credEntry is one set of credentials and what it is for: the remotes its
// entry matches, over the schemes named (a URL prefix names its own).
type credEntry struct {
	entry
	schemes []string
	creds   Credentials
}

// secureSchemes are what a host's credentials are for: never plain http,
// where a token would cross the network in clear.
var secureSchemes = []string{"https", "ssh"}

// schemesOf is the scheme family credentials for a URL of scheme s are
// for: https and ssh together (a token and an SSH key of one host), http
// alone (a local test remote).
func schemesOf(s string) []string {
	if s == "http" {
		return []string{"http"}
	}
	return secureSchemes
}

func (c credEntry) applies(r Remote) bool {
	return c.matches(r) && slices.Contains(c.schemes, r.Scheme)
}

// fileEntry is one entry of the credentials file.
type fileEntry struct {
	Username   string `json:"username"`
	Token      string `json:"token"`
	TokenFile  string `json:"token_file"`
	SSHKeyFile string `json:"ssh_key_file"`
	// SSHKeyPassphrase or SSHKeyPassphraseFile decrypts SSHKeyFile.
	SSHKeyPassphrase     string `json:"ssh_key_passphrase"`
	SSHKeyPassphraseFile string `json:"ssh_key_passphrase_file"`
}

// loadCredentials reads the credentials file: a YAML map from a host
// ("github.com", "git.example.com:8443": for https and ssh, never plain
// http) or URL prefix ("https://github.com/acme/", "http://127.0.0.1:8080/":
// for that scheme) to username, token or token_file, ssh_key_file and
// ssh_key_passphrase or ssh_key_passphrase_file. Unknown fields are
// errors. "" reads nothing.
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
		c := Credentials{Username: fe.Username, Token: fe.Token, SSHKeyFile: fe.SSHKeyFile, SSHKeyPassphrase: fe.SSHKeyPassphrase}
		err = readSecretFile(&c.Token, "token", fe.TokenFile)
		if err == nil {
			err = readSecretFile(&c.SSHKeyPassphrase, "ssh_key_passphrase", fe.SSHKeyPassphraseFile)
		}
		if err == nil {
			err = c.check()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("credentials file %s: %q: %w", path, k, err))
			continue
		}
		schemes := secureSchemes // a host: https and ssh, never http
		if !e.host {
			schemes = []string{e.remote.Scheme}
		}
		out = append(out, credEntry{entry: e, schemes: schemes, creds: c})
	}
	return out, errors.Join(errs...)
}

// readSecretFile sets *dst from file (the value of name_file), trailing
// newlines removed; an error when both are set. "" reads nothing.
func readSecretFile(dst *string, name, file string) error {
	if file == "" {
		return nil
	}
	if *dst != "" {
		return fmt.Errorf("set %s or %s_file, not both", name, name)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("%s_file: %w", name, err)
	}
	*dst = strings.TrimRight(string(b), "\r\n")
	return nil
}
