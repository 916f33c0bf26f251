package config

import (
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/gitaccess"
	"github.com/githedgehog/hnp-sidecar/internal/redact"
)

// GitConfig is how the sidecar writes Git, and which remotes it may reach.
type GitConfig struct {
	WorkDir, Username string
	Token             Secret
	SSHKeyFile        string
	// SSHKeyPassphrase decrypts SSHKeyFile (HNP_GIT_SSH_KEY_PASSPHRASE).
	SSHKeyPassphrase Secret
	// SSHKnownHosts is the known_hosts file every SSH remote's host key
	// is checked against (HNP_GIT_SSH_KNOWN_HOSTS); unset: no SSH remote.
	SSHKnownHosts string
	// CAFile and CABundle (its content, read at load) are CAs trusted for
	// Git over HTTPS beside the system's (HNP_GIT_CA_FILE).
	CAFile        string
	CABundle      []byte
	DefaultURL    string
	DefaultBranch string
	// AllowedURLs are hosts and URL prefixes (HNP_GIT_ALLOWED_URLS);
	// empty: the host of DefaultURL.
	AllowedURLs []string
	// AllowHTTP admits plain http:// remotes (a local test remote).
	AllowHTTP bool
	// CredentialsFile holds credentials per host or URL prefix.
	CredentialsFile string
	// CloneCacheMax bounds the clones kept in WorkDir; CloneMaxIdle
	// removes a clone unused that long.
	CloneCacheMax int
	CloneMaxIdle  time.Duration
}

// Access builds the Git access policy: which remotes may be reached, with
// which credentials. HNP_GIT_USERNAME/TOKEN/SSH_KEY_FILE are only for the
// host of HNP_GIT_DEFAULT_URL.
func (g GitConfig) Access() (*gitaccess.Policy, error) {
	return gitaccess.New(gitaccess.Options{
		Allowed: g.AllowedURLs, DefaultURL: g.DefaultURL, AllowHTTP: g.AllowHTTP,
		Default: gitaccess.Credentials{Username: g.Username, Token: g.Token.Reveal(), SSHKeyFile: g.SSHKeyFile,
			SSHKeyPassphrase: g.SSHKeyPassphrase.Reveal()},
		CredentialsFile: g.CredentialsFile,
	})
}

func (g GitConfig) validate() []error {
	var errs []error
	if _, err := g.Access(); err != nil {
		what := "HNP_GIT_ALLOWED_URLS, HNP_GIT_DEFAULT_URL or HNP_GIT_CREDENTIALS_FILE: "
		if errors.Is(err, gitaccess.ErrSSHKey) {
			what = "HNP_GIT_SSH_KEY_FILE, HNP_GIT_SSH_KEY_PASSPHRASE or HNP_GIT_CREDENTIALS_FILE: "
		}
		errs = append(errs, errors.New(what+strings.ReplaceAll(err.Error(), "gitaccess: ", "")))
	}
	if g.SSHKnownHosts == "" && g.sshRemote() {
		errs = append(errs, errors.New("HNP_GIT_SSH_KNOWN_HOSTS is required for Git over SSH (HNP_GIT_DEFAULT_URL or HNP_GIT_ALLOWED_URLS "+
			"names an ssh remote): the host keys are always checked (ssh-keyscan <host> > known_hosts, and verify the fingerprints)"))
	}
	return errs
}

func (g GitConfig) logValue() slog.Attr {
	return slog.Group("git",
		slog.String("workdir", g.WorkDir),
		slog.String("default_url", redact.URL(g.DefaultURL)),
		slog.Any("allowed_urls", g.AllowedURLs),
		slog.Bool("allow_http", g.AllowHTTP),
		slog.String("credentials_file", g.CredentialsFile),
		slog.String("ssh_known_hosts", g.SSHKnownHosts),
		slog.String("ca_file", g.CAFile),
		slog.Int("clone_cache_max", g.CloneCacheMax),
		slog.Duration("clone_max_idle", g.CloneMaxIdle))
}

var gitVariables = []variable{
	{name: "HNP_GIT_WORKDIR", def: "/var/lib/hnp-sidecar/git", help: "directory of the persistent clones, one per repository and branch",
		set: func(c *Config, v string) error { c.Git.WorkDir = v; return nil }},
	{name: "HNP_GIT_USERNAME", help: "user name for Git over HTTP(S), or for SSH, on the host of HNP_GIT_DEFAULT_URL only",
		set: func(c *Config, v string) error { c.Git.Username = v; return nil }},
	{name: "HNP_GIT_TOKEN", secret: true, help: "password or token for Git over HTTP(S), sent only to the host of HNP_GIT_DEFAULT_URL",
		set: func(c *Config, v string) error { c.Git.Token = Secret(v); return nil }},
	{name: "HNP_GIT_SSH_KEY_FILE", help: "private key for Git over SSH, used only for the host of HNP_GIT_DEFAULT_URL",
		set: func(c *Config, v string) error { c.Git.SSHKeyFile = v; return nil }},
	{name: "HNP_GIT_SSH_KEY_PASSPHRASE", secret: true, help: "passphrase of HNP_GIT_SSH_KEY_FILE when the key is encrypted",
		set: func(c *Config, v string) error { c.Git.SSHKeyPassphrase = Secret(v); return nil }},
	{name: "HNP_GIT_SSH_KNOWN_HOSTS", help: "known_hosts file every Git-over-SSH remote's host key is checked against (always: a host key it lacks or that differs is refused); required for ssh remotes",
		set: func(c *Config, v string) error { c.Git.SSHKnownHosts = v; return checkKnownHosts(v) }},
	{name: "HNP_GIT_CA_FILE", help: "PEM bundle of CA certificates trusted for Git over HTTPS beside the system's roots",
		set: caFile(func(c *Config) (*string, *[]byte) { return &c.Git.CAFile, &c.Git.CABundle })},
	{name: "HNP_GIT_DEFAULT_URL", help: "repository of fabrics that name none in NetBox",
		set: func(c *Config, v string) error { c.Git.DefaultURL = v; return nil }},
	{name: "HNP_GIT_DEFAULT_BRANCH", def: "main", help: "branch of fabrics that name none in NetBox",
		set: func(c *Config, v string) error { c.Git.DefaultBranch = v; return nil }},
	{name: "HNP_GIT_ALLOWED_URLS", help: "comma-separated Git hosts (github.com, git.example.com:8443) or URL prefixes (https://github.com/acme/) fabrics may use; unset: the host of HNP_GIT_DEFAULT_URL",
		set: listVar(func(c *Config) *[]string { return &c.Git.AllowedURLs })},
	{name: "HNP_GIT_ALLOW_HTTP", def: "false", help: "allow plain http:// Git remotes (a local test remote; credentials go in clear)",
		set: boolVar(func(c *Config) *bool { return &c.Git.AllowHTTP })},
	{name: "HNP_GIT_CREDENTIALS_FILE", help: "YAML file of Git credentials per host or URL prefix: username, token or token_file, ssh_key_file, ssh_key_passphrase or ssh_key_passphrase_file",
		set: func(c *Config, v string) error { c.Git.CredentialsFile = v; return nil }},
	{name: "HNP_GIT_CLONE_CACHE_MAX", def: "64", help: "most clones kept in HNP_GIT_WORKDIR; the least recently used one not in use is removed first",
		set: intVar(1, 100000, func(c *Config, n int64) { c.Git.CloneCacheMax = int(n) })},
	{name: "HNP_GIT_CLONE_MAX_IDLE", def: "1h", help: "a clone unused this long is removed (its fabric was deleted or moved)",
		set: durationVar(time.Minute, func(c *Config) *time.Duration { return &c.Git.CloneMaxIdle })},
}
