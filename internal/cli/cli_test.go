package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/api"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/jobs"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// result is one run of the command line.
type result struct {
	code           int
	stdout, stderr string
}

// run runs args with only env as the environment.
func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return runContext(t, context.Background(), env, args...)
}

func runContext(t *testing.T, ctx context.Context, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(ctx, args, Options{
		Version: "v1.2.3-test", Stdout: &stdout, Stderr: &stderr,
		LookupEnv: func(name string) (string, bool) { v, ok := env[name]; return v, ok },
		Environ: func() []string {
			var out []string
			for k, v := range env {
				out = append(out, k+"="+v)
			}
			return out
		},
	})
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// allCommands is every command of the tree, hidden ones and cobra's help
// command included, as the arguments that reach it.
func allCommands() [][]string {
	root := NewRootCommand(Options{})
	root.InitDefaultHelpCmd()
	var out [][]string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		out = append(out, strings.Fields(c.CommandPath())[1:])
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return out
}

func TestEveryCommandAnswersHelp(t *testing.T) {
	cmds := allCommands()
	names := map[string]bool{}
	for _, path := range cmds {
		names[strings.Join(path, " ")] = true
	}
	for _, want := range []string{"", "serve", "bootstrap", "resync", "argocd", "argocd install", "state", "state list",
		"state show", "version", "completion", "docs", "help"} {
		require.True(t, names[want], "command %q missing from the tree", want)
	}
	for _, path := range cmds {
		for _, flag := range []string{"--help", "-h"} {
			args := append(append([]string{}, path...), flag)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				r := run(t, nil, args...)
				require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
				require.Empty(t, r.stderr)
				require.Contains(t, r.stdout, "Usage:\n  "+strings.Join(append([]string{programName}, path...), " "))
				require.Contains(t, r.stdout, "Flags:\n")
			})
		}
	}
}

// Every command of ours says what it does, at length, with an example;
// the client commands and the service's name the variables they read.
func TestEveryCommandHasLongHelpAndExample(t *testing.T) {
	reads := map[string][]string{
		"serve":          {"HNP_LISTEN_ADDR", "HNP_LOG_LEVEL", "HNP_REDIS_URL", "HNP_API_TOKEN", "HNP_WEBHOOK_SECRET", "README"},
		"bootstrap":      {"HNP_NETBOX_URL", "HNP_NETBOX_TOKEN", "HNP_SIDECAR_URL", "HNP_WEBHOOK_SECRET"},
		"resync":         {"HNP_SIDECAR_URL", "HNP_API_TOKEN"},
		"argocd install": {"HNP_SIDECAR_URL", "HNP_API_TOKEN", "HNP_ARGOCD_INSTALL_MANIFEST", "HNP_ARGOCD_INSTALL_TIMEOUT"},
		"state list":     {"HNP_SIDECAR_URL", "HNP_API_TOKEN"},
		"state show":     {"HNP_SIDECAR_URL", "HNP_API_TOKEN"},
	}
	root := NewRootCommand(Options{})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		name := strings.Join(strings.Fields(c.CommandPath())[1:], " ")
		require.NotEmpty(t, c.Short, "%q", name)
		require.Greater(t, len(c.Long), 2*len(c.Short), "%q needs a Long description", name)
		require.NotEmpty(t, c.Example, "%q needs an Example", name)
		for _, v := range reads[name] {
			require.Contains(t, c.Long, v, "%q's help should name %s", name, v)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no command", nil, "a command is required"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate" for "hnp-sidecar"`},
		{"unknown command suggests", []string{"serv"}, "did you mean serve?"},
		{"unknown subcommand", []string{"state", "delete"}, `unknown command "delete" for "hnp-sidecar state"`},
		{"group alone", []string{"argocd"}, "a command is required"},
		{"unknown flag", []string{"resync", "--fabric", "x", "--bogus"}, "unknown flag: --bogus"},
		{"unknown root flag", []string{"--bogus"}, "unknown flag: --bogus"},
		{"go-style flag", []string{"resync", "-fabric", "x"}, "unknown shorthand flag"},
		{"missing --fabric", []string{"resync"}, `required flag(s) "fabric" not set`},
		{"missing --fabric argocd", []string{"argocd", "install"}, `required flag(s) "fabric" not set`},
		{"empty --fabric", []string{"resync", "--fabric", ""}, "--fabric must name a fabric"},
		{"flag without value", []string{"resync", "--fabric"}, "flag needs an argument: --fabric"},
		{"bad duration", []string{"resync", "--fabric", "x", "--timeout", "soon"}, `invalid argument "soon" for "--timeout"`},
		{"bad URL", []string{"resync", "--fabric", "x", "--sidecar-url", "ftp://x"}, "not an http:// or https:// URL"},
		{"missing token file", []string{"state", "list", "--api-token-file", "/nonexistent/token"}, "no such file"},
		{"bad log level", []string{"serve", "--log-level", "loud"}, "not one of debug, info, warn, error"},
		{"bad listen address", []string{"serve", "--listen-addr", "8090"}, "not host:port"},
		{"unexpected argument", []string{"resync", "--fabric", "x", "now"}, `unexpected argument "now"`},
		{"serve argument", []string{"serve", "now"}, `unexpected argument "now"`},
		{"state show no object", []string{"state", "show"}, "accepts 1 arg(s), received 0"},
		{"state show bad object", []string{"state", "show", "fabric-1/vpc-1"}, "want FABRIC/KIND/NAMESPACE/NAME"},
		{"argocd manifest unreadable", []string{"argocd", "install", "--fabric", "x", "--manifest", "/nonexistent.yaml"}, "--manifest"},
		{"completion no shell", []string{"completion"}, "accepts 1 arg(s), received 0"},
		{"completion unknown shell", []string{"completion", "tcsh"}, `invalid argument "tcsh"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, nil, tc.args...)
			require.Equal(t, 2, r.code, "stderr: %s", r.stderr)
			require.Contains(t, r.stderr, tc.want)
			require.Regexp(t, `Run 'hnp-sidecar[a-z ]*--help' for usage.\n$`, r.stderr)
			if len(tc.args) > 0 {
				require.Empty(t, r.stdout)
			}
		})
	}
}

func TestFailuresExit1(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"resync without configuration", []string{"resync", "--fabric", "x"}, "HNP_API_TOKEN is required"},
		{"state without configuration", []string{"state", "list"}, "HNP_SIDECAR_URL is required"},
		{"bootstrap without configuration", []string{"bootstrap"}, "HNP_NETBOX_URL is required"},
		{"serve without configuration", []string{"serve"}, "HNP_REDIS_URL is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, nil, tc.args...)
			require.Equal(t, 1, r.code, "stderr: %s", r.stderr)
			require.True(t, strings.HasPrefix(r.stderr, "hnp-sidecar: "), r.stderr)
			require.Contains(t, r.stderr, tc.want)
		})
	}
}

// fakeSidecar answers a resync as the sidecar does, recording the requests
// it gets; its job ends in state.
type fakeSidecar struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string // "METHOD path Authorization"
}

func newFakeSidecar(t *testing.T, state string) *fakeSidecar {
	f := &fakeSidecar{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		f.mu.Unlock()
		j := jobs.Job{ID: "j1", Fabric: 3, State: state, Objects: 4, Commit: "0123456789abcdef", Committed: true}
		if state == jobs.Failed {
			j.Error = "repository not readable"
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/sync"):
			w.WriteHeader(http.StatusAccepted)
			_ = json.NewEncoder(w).Encode(api.SyncResponse{Job: jobs.Job{ID: "j1", State: jobs.Queued}, StatusURL: "/api/v1/jobs/j1"})
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/jobs/j1":
			_ = json.NewEncoder(w).Encode(j)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSidecar) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func TestClientFlagsBeatEnvironment(t *testing.T) {
	const envToken, fileToken = "token-from-the-environment", "token-from-the-file-0123"
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(fileToken+"\n"), 0o600))
	otherFile := filepath.Join(t.TempDir(), "other")
	require.NoError(t, os.WriteFile(otherFile, []byte("token-from-the-env-file\n"), 0o600))

	for _, tc := range []struct {
		name      string
		flags     []string
		env       func(flagged, other *fakeSidecar) map[string]string
		wantFlag  bool   // the request reached the server named by --sidecar-url
		wantToken string // the bearer token it carried
	}{
		{"environment only", nil,
			func(_, other *fakeSidecar) map[string]string {
				return map[string]string{"HNP_SIDECAR_URL": other.URL, "HNP_API_TOKEN": envToken}
			}, false, envToken},
		{"--sidecar-url beats HNP_SIDECAR_URL", []string{"--sidecar-url", ""},
			func(_, other *fakeSidecar) map[string]string {
				return map[string]string{"HNP_SIDECAR_URL": other.URL, "HNP_API_TOKEN": envToken}
			}, true, envToken},
		{"--api-token-file beats HNP_API_TOKEN", []string{"--sidecar-url", "", "--api-token-file", tokenFile},
			func(_, other *fakeSidecar) map[string]string {
				return map[string]string{"HNP_SIDECAR_URL": other.URL, "HNP_API_TOKEN": envToken}
			}, true, fileToken},
		{"--api-token-file beats HNP_API_TOKEN_FILE", []string{"--api-token-file", tokenFile},
			func(_, other *fakeSidecar) map[string]string {
				return map[string]string{"HNP_SIDECAR_URL": other.URL, "HNP_API_TOKEN_FILE": otherFile}
			}, false, fileToken},
		{"flags alone", []string{"--sidecar-url", "", "--api-token-file", tokenFile},
			func(_, _ *fakeSidecar) map[string]string { return nil }, true, fileToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flagged, other := newFakeSidecar(t, jobs.Succeeded), newFakeSidecar(t, jobs.Succeeded)
			args := []string{"resync", "--fabric", "fabric-1", "--timeout", "10s"}
			for i, f := range tc.flags {
				if f == "" && i > 0 && tc.flags[i-1] == "--sidecar-url" {
					f = flagged.URL
				}
				args = append(args, f)
			}
			r := run(t, tc.env(flagged, other), args...)
			require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			require.Contains(t, r.stdout, "4 objects, 0 invalid; commit 0123456789abcdef")

			hit, missed := other, flagged
			if tc.wantFlag {
				hit, missed = flagged, other
			}
			require.Empty(t, missed.got())
			require.Equal(t, "POST /api/v1/fabrics/fabric-1/sync Bearer "+tc.wantToken, hit.got()[0])
		})
	}
}

func TestResyncFailedJobExits1(t *testing.T) {
	f := newFakeSidecar(t, jobs.Failed)
	r := run(t, map[string]string{"HNP_SIDECAR_URL": f.URL, "HNP_API_TOKEN": "token-from-the-environment"},
		"resync", "--fabric", "3")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "hnp-sidecar: resync: failed: job j1: fabric 3: repository not readable")
}

// The service's and bootstrap's flags reach the loaders in place of their
// variables.
func TestServiceFlagsBeatEnvironment(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	netboxToken := "0123456789abcdef0123456789abcdef01234567"
	netboxTokenFile, secretFile := write("netbox", netboxToken+"\n"), write("secret", "secret-from-file\n")
	env := map[string]string{
		"HNP_NETBOX_URL": "https://env.example.com", "HNP_NETBOX_TOKEN": "nbt_env.secret",
		"HNP_SIDECAR_URL": "http://env:8090", "HNP_WEBHOOK_SECRET": "secret-from-env-var",
		"HNP_REDIS_URL": "redis://127.0.0.1:1/0", "HNP_API_TOKEN": "0123456789abcdef", "HNP_LISTEN_ADDR": ":1",
		"HNP_LOG_LEVEL": "error",
	}
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	parse := func(cmd *cobra.Command, args ...string) *cobra.Command {
		require.NoError(t, cmd.ParseFlags(args))
		return cmd
	}

	cmd := parse(newBootstrapCommand(Options{}), "--netbox-url", "https://flag.example.com", "--netbox-token-file", netboxTokenFile,
		"--sidecar-url", "http://flag:8090", "--webhook-secret-file", secretFile)
	b, err := config.LoadBootstrapConfig(getenv(cmd, lookup, netboxURLFlag, netboxTokenFileFlag, bootstrapSidecarURLFlag, webhookSecretFileFlag))
	require.NoError(t, err)
	require.Equal(t, config.BootstrapConfig{NetBoxURL: "https://flag.example.com", NetBoxToken: config.Secret(netboxToken),
		SidecarURL: "http://flag:8090", WebhookSecret: "secret-from-file"}, b)

	cmd = parse(newBootstrapCommand(Options{}), "--sidecar-url", "http://flag:8090")
	b, err = config.LoadBootstrapConfig(getenv(cmd, lookup, netboxURLFlag, netboxTokenFileFlag, bootstrapSidecarURLFlag, webhookSecretFileFlag))
	require.NoError(t, err)
	require.Equal(t, config.BootstrapConfig{NetBoxURL: "https://env.example.com", NetBoxToken: "nbt_env.secret",
		SidecarURL: "http://flag:8090", WebhookSecret: "secret-from-env-var"}, b, "unset flags leave the variables")

	cmd = parse(newServeCommand(Options{}), "--listen-addr", "127.0.0.1:9999", "--log-level", "debug")
	c, err := config.LoadConfig(getenv(cmd, lookup, listenAddrFlag, logLevelFlag))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9999", c.ListenAddr)
	require.Equal(t, "DEBUG", c.LogLevel.String())
}

func TestCompletionPrintsScripts(t *testing.T) {
	for shell, want := range map[string]string{
		"bash":       "# bash completion V2 for hnp-sidecar",
		"zsh":        "#compdef hnp-sidecar",
		"fish":       "complete -c hnp-sidecar",
		"powershell": "Register-ArgumentCompleter -CommandName 'hnp-sidecar'",
	} {
		t.Run(shell, func(t *testing.T) {
			r := run(t, nil, "completion", shell)
			require.Equal(t, 0, r.code, r.stderr)
			require.Contains(t, r.stdout, want)
			require.Empty(t, r.stderr)
		})
	}
	// The script asks the binary; the binary answers with values.
	r := run(t, nil, "__complete", "state", "list", "--state", "")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "draft\ncommitted\npending\nsynced\ndrifted\norphaned\n")
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}} {
		r := run(t, nil, args...)
		require.Equal(t, 0, r.code, r.stderr)
		require.Equal(t, "hnp-sidecar v1.2.3-test\n", r.stdout, args)
	}
	require.Equal(t, "dev", buildVersion("")) // a test binary has no module version
}

// serve runs until its context ends (SIGINT or SIGTERM in main), then
// stops and exits 0; its flags beat the variables.
func TestServeStopsWhenContextEnds(t *testing.T) {
	srv := redisenv.Start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	env := map[string]string{"HNP_REDIS_URL": srv.URL(), "HNP_API_TOKEN": "0123456789abcdef", "HNP_WEBHOOK_SECRET": "webhook-secret-16+",
		"HNP_LISTEN_ADDR": "127.0.0.1:1", "HNP_GIT_WORKDIR": t.TempDir(), "HNP_TYPO": "1"}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- runContext(t, ctx, env, "serve", "--listen-addr", addr, "--log-level", "debug") }()
	require.Eventually(t, func() bool {
		r, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		_ = r.Body.Close()
		return r.StatusCode == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond)
	cancel()
	var r result
	select {
	case r = <-done:
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop")
	}
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, `"msg":"unknown configuration variable ignored","version":"v1.2.3-test","variable":"HNP_TYPO"`)
	require.Contains(t, r.stdout, `"level":"DEBUG"`)
	require.Contains(t, r.stdout, `"msg":"signal received; shutting down"`)
	require.Contains(t, r.stdout, `"msg":"hnp-sidecar stopped"`)
}
