package gitaccess

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"golang.org/x/crypto/ssh"
)

// ErrSSHKey: an SSH private key cannot be used as configured (unreadable,
// encrypted without a passphrase, a wrong passphrase). The sidecar's
// configuration must change; no retry helps.
var ErrSSHKey = errors.New("gitaccess: the SSH key cannot be used")

// SSHSigner reads c's SSH key file and decrypts it with c's passphrase.
// Its errors match ErrSSHKey and never contain the passphrase.
func (c Credentials) SSHSigner() (ssh.Signer, error) {
	b, err := c.sshKey()
	if err != nil {
		return nil, err
	}
	if c.SSHKeyPassphrase == "" {
		s, err := ssh.ParsePrivateKey(b)
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, fmt.Errorf("%w: %s is encrypted and no passphrase is set for it "+
				"(HNP_GIT_SSH_KEY_PASSPHRASE, or ssh_key_passphrase in HNP_GIT_CREDENTIALS_FILE)", ErrSSHKey, c.SSHKeyFile)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrSSHKey, c.SSHKeyFile, err)
		}
		return s, nil
	}
	s, err := ssh.ParsePrivateKeyWithPassphrase(b, []byte(c.SSHKeyPassphrase))
	switch {
	case errors.Is(err, x509.IncorrectPasswordError):
		return nil, fmt.Errorf("%w: %s: the passphrase set for it does not decrypt it", ErrSSHKey, c.SSHKeyFile)
	case err != nil && err.Error() == "ssh: not an encrypted key":
		// a passphrase for a key that needs none: the key is what counts
		return c.withoutPassphrase().SSHSigner()
	case err != nil:
		return nil, fmt.Errorf("%w: %s: %v", ErrSSHKey, c.SSHKeyFile, err)
	}
	return s, nil
}

// SSHKeyPEM is c's SSH key, decrypted, in OpenSSH's PEM form: for a
// client that takes no passphrase (Argo CD's repository Secret).
func (c Credentials) SSHKeyPEM() ([]byte, error) {
	if c.SSHKeyPassphrase == "" {
		return c.sshKey()
	}
	if _, err := c.SSHSigner(); err != nil {
		return nil, err
	}
	b, err := c.sshKey()
	if err != nil {
		return nil, err
	}
	raw, err := ssh.ParseRawPrivateKeyWithPassphrase(b, []byte(c.SSHKeyPassphrase))
	if err != nil && err.Error() == "ssh: not an encrypted key" {
		return b, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrSSHKey, c.SSHKeyFile, err)
	}
	blk, err := ssh.MarshalPrivateKey(raw, "")
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrSSHKey, c.SSHKeyFile, err)
	}
	return pem.EncodeToMemory(blk), nil
}

func (c Credentials) withoutPassphrase() Credentials {
	c.SSHKeyPassphrase = ""
	return c
}

func (c Credentials) sshKey() ([]byte, error) {
	b, err := os.ReadFile(c.SSHKeyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSSHKey, err)
	}
	return b, nil
}
