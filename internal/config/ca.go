package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/ssh/knownhosts"
)

// caFile reads a PEM bundle of CA certificates (HNP_GIT_CA_FILE,
// HNP_NETBOX_CA_FILE) into *dst: an unreadable file, or one without a
// certificate, is an error. "" reads nothing.
func caFile(dst func(*Config) (*string, *[]byte)) func(*Config, string) error {
	return func(c *Config, v string) error {
		path, bundle := dst(c)
		*path, *bundle = v, nil
		if v == "" {
			return nil
		}
		b, err := os.ReadFile(v)
		if err != nil {
			return fmt.Errorf("cannot be read: %w", err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(b) {
			return errors.New("holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
		}
		*bundle = b
		return nil
	}
}

// checkKnownHosts says whether path is a known_hosts file the SSH client
// can read; "" is none.
func checkKnownHosts(path string) error {
	if path == "" {
		return nil
	}
	if _, err := knownhosts.New(path); err != nil {
		return fmt.Errorf("not a readable known_hosts file: %w", err)
	}
	return nil
}

// sshRemote says whether the default URL or an allowed URL prefix is Git
// over SSH (ssh:// or scp-like user@host:path).
func (g GitConfig) sshRemote() bool {
	for _, u := range append([]string{g.DefaultURL}, g.AllowedURLs...) {
		u = strings.ToLower(strings.TrimSpace(u))
		if strings.HasPrefix(u, "ssh://") || strings.HasPrefix(u, "git+ssh://") ||
			(!strings.Contains(u, "://") && strings.Contains(u, "@") && strings.Contains(u, ":")) {
			return true
		}
	}
	return false
}
