package cli

import (
	"fmt"
	"os"

	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/spf13/cobra"
)

// envFlag is a flag that stands for an HNP_* variable: when set, it beats
// the variable.
type envFlag struct {
	name     string // the flag, e.g. "sidecar-url"
	variable string // the variable it sets, e.g. HNP_SIDECAR_URL
	// hides are variables that stop counting when the flag is set: a
	// secret's value when the flag gives its file (NAME and NAME_FILE
	// together are refused by the loaders).
	hides []string
	usage string // help text; a `quoted` word names the value
	file  bool   // the value is a file name (shell completion)
	// check refuses a bad value while the flags are parsed, so that it is
	// a usage error (exit code 2); the loaders check the value again.
	check func(string) error
}

var (
	sidecarURLFlag = envFlag{name: "sidecar-url", variable: "HNP_SIDECAR_URL",
		usage: "the sidecar's `URL`, e.g. http://hnp-sidecar:8090", check: checkVar("HNP_SIDECAR_URL")}
	apiTokenFileFlag = envFlag{name: "api-token-file", variable: "HNP_API_TOKEN_FILE", hides: []string{"HNP_API_TOKEN"},
		usage: "`file` holding the sidecar's API token", file: true, check: checkFile}
	netboxURLFlag = envFlag{name: "netbox-url", variable: "HNP_NETBOX_URL",
		usage: "NetBox's base `URL`, e.g. https://netbox.example.com", check: checkVar("HNP_NETBOX_URL")}
	netboxTokenFileFlag = envFlag{name: "netbox-token-file", variable: "HNP_NETBOX_TOKEN_FILE", hides: []string{"HNP_NETBOX_TOKEN"},
		usage: "`file` holding the API token of the sidecar's NetBox user (v2 nbt_<key>.<secret> or v1)", file: true, check: checkFile}
	bootstrapSidecarURLFlag = envFlag{name: "sidecar-url", variable: "HNP_SIDECAR_URL",
		usage: "`URL` at which NetBox reaches the sidecar; the webhook posts to <URL>/webhooks/netbox", check: checkVar("HNP_SIDECAR_URL")}
	webhookSecretFileFlag = envFlag{name: "webhook-secret-file", variable: "HNP_WEBHOOK_SECRET_FILE", hides: []string{"HNP_WEBHOOK_SECRET"},
		usage: "`file` holding the secret NetBox signs webhooks with", file: true, check: checkFile}
	listenAddrFlag = envFlag{name: "listen-addr", variable: "HNP_LISTEN_ADDR",
		usage: "`address` of the HTTP server (webhooks, API, probes, metrics), e.g. :8090", check: checkVar("HNP_LISTEN_ADDR")}
	logLevelFlag = envFlag{name: "log-level", variable: "HNP_LOG_LEVEL",
		usage: "log `level`: debug, info, warn or error", check: checkVar("HNP_LOG_LEVEL")}
)

// add defines the flag on cmd. Its default is empty, never the
// variable's value, so that help and the README do not depend on the
// environment.
func (f envFlag) add(cmd *cobra.Command) {
	what := f.variable
	for _, h := range f.hides {
		what = h + " and " + what
	}
	cmd.Flags().Var(&checkedString{check: f.check}, f.name, f.usage+" (beats "+what+")")
	if f.file {
		_ = cmd.MarkFlagFilename(f.name)
	}
}

// getenv is lookup with the flags of cmd that were set laid over it: each
// one replaces its variable (and hides the ones it stands in for). It is
// what the app's loaders read, so a flag beats the environment without
// the loaders knowing about flags.
func getenv(cmd *cobra.Command, lookup func(string) (string, bool), flags ...envFlag) config.Getenv {
	over := map[string]*string{}
	for _, f := range flags {
		fl := cmd.Flags().Lookup(f.name)
		if fl == nil || !fl.Changed {
			continue
		}
		v := fl.Value.String()
		over[f.variable] = &v
		for _, h := range f.hides {
			over[h] = nil
		}
	}
	return func(name string) (string, bool) {
		if v, ok := over[name]; ok {
			if v == nil {
				return "", false
			}
			return *v, true
		}
		return lookup(name)
	}
}

// checkedString is a string flag whose value is checked when it is set.
type checkedString struct {
	value string
	check func(string) error
}

func (s *checkedString) String() string { return s.value }
func (s *checkedString) Type() string   { return "string" }

func (s *checkedString) Set(v string) error {
	if s.check != nil {
		if err := s.check(v); err != nil {
			return err
		}
	}
	s.value = v
	return nil
}

// checkVar is the rule of variable name (config.Check).
func checkVar(name string) func(string) error {
	return func(v string) error { return config.Check(name, v) }
}

func checkFile(v string) error {
	fi, err := os.Stat(v)
	switch {
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%s is a directory", v)
	}
	return nil
}
