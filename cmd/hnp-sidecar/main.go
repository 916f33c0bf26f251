// Command hnp-sidecar runs the GitOps sidecar of the Hedgehog NetBox plugin.
//
//	hnp-sidecar serve       run the service (configuration from HNP_* variables)
//	hnp-sidecar bootstrap   install the sidecar's webhook and event rules into NetBox
//	hnp-sidecar resync      full reconcile of one fabric through a running sidecar
//	hnp-sidecar argocd install  install Argo CD into a fabric's cluster through a running sidecar
//	hnp-sidecar state       list object states, or show one with its history
//	hnp-sidecar version     print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/app"
	"github.com/githedgehog/hnp-sidecar/internal/client"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

const usage = `usage: hnp-sidecar <command>

commands:
  serve       run the sidecar; configuration comes from HNP_* environment variables
  bootstrap   create or update the NetBox webhook and event rules that feed the sidecar
              (HNP_NETBOX_URL, HNP_NETBOX_TOKEN, HNP_SIDECAR_URL, HNP_WEBHOOK_SECRET); idempotent
  resync      --fabric ID|NAME: ask the running sidecar (HNP_SIDECAR_URL, HNP_API_TOKEN) for a full
              reconcile of a fabric into Git and follow the job
  argocd install --fabric ID|NAME [--manifest URL|FILE] [--wait DURATION]: ask the running sidecar
              to install Argo CD (a pinned release manifest; a FILE is read here and sent) into the
              fabric's cluster, then its repository Secret and Application, and follow the job; idempotent
  state list  [--fabric ID|NAME] [--kind KIND] [--state STATE] [--json]: the GitOps state of objects
  state show  FABRIC/KIND/NAMESPACE/NAME [--json]: one object's state and its history
  version     print the version and exit
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(stdout, stderr)
	case "bootstrap":
		return bootstrap(stdout, stderr)
	case "resync":
		return resync(args[1:], stdout, stderr)
	case "argocd":
		return argocdCmd(args[1:], stdout, stderr)
	case "state":
		return stateCmd(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "hnp-sidecar", buildVersion())
		return 0
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "hnp-sidecar: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func serve(stdout, stderr io.Writer) int {
	cfg, err := config.LoadConfig(os.LookupEnv)
	if err != nil {
		fmt.Fprintf(stderr, "hnp-sidecar: %v\n", err)
		return 1
	}
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	logger = logger.With("version", buildVersion())
	redis.SetLogger(app.RedisLogger{Logger: logger})
	for _, name := range config.UnknownVariables(os.Environ()) {
		logger.Warn("unknown configuration variable ignored", "variable", name)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	a, err := app.New(cfg, logger, nil)
	if err != nil {
		logger.Error("start-up failed", "err", err)
		return 1
	}
	if err := a.Start(ctx); err != nil {
		logger.Error("start-up failed", "err", err)
		return 1
	}
	code := 0
	select {
	case <-ctx.Done():
		logger.Info("signal received; shutting down")
	case err := <-a.Err():
		logger.Error("component failed; shutting down", "err", err)
		code = 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout+5*time.Second)
	defer cancel()
	if err := a.Stop(sctx); err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("shutdown incomplete", "err", err)
		code = 1
	}
	return code
}

func bootstrap(stdout, stderr io.Writer) int {
	cfg, err := config.LoadBootstrapConfig(os.LookupEnv)
	if err != nil {
		fmt.Fprintf(stderr, "hnp-sidecar: %v\n", err)
		return 1
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var lines []string
	nb, err := netbox.New(netbox.Options{URL: cfg.NetBoxURL, Token: cfg.NetBoxToken.Reveal()})
	if err == nil {
		lines, err = nb.InstallWebhooks(ctx, cfg.SidecarURL, cfg.WebhookSecret.Reveal(), logger)
	} else {
		err = fmt.Errorf("bootstrap: %w", err)
	}
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	if err != nil {
		fmt.Fprintf(stderr, "hnp-sidecar: %v\n", err)
		return 1
	}
	return 0
}

func resync(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("resync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fabric := fs.String("fabric", "", "the fabric's NetBox id or name")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up following the job after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *fabric == "" {
		fmt.Fprintln(stderr, "hnp-sidecar resync: --fabric <id|name> is required")
		return 2
	}
	return clientCall(stderr, *timeout, func(ctx context.Context, cfg config.ClientConfig) error {
		_, err := client.Resync(ctx, cfg, *fabric, stdout)
		return err
	})
}

// clientCall runs fn against the running sidecar (HNP_SIDECAR_URL,
// HNP_API_TOKEN) with a context that ends on SIGINT/SIGTERM or after
// timeout; the exit code is 1 when the configuration or fn fails.
func clientCall(stderr io.Writer, timeout time.Duration, fn func(context.Context, config.ClientConfig) error) int {
	cfg, err := config.LoadClientConfig(os.LookupEnv)
	if err != nil {
		fmt.Fprintf(stderr, "hnp-sidecar: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := fn(ctx, cfg); err != nil {
		fmt.Fprintf(stderr, "hnp-sidecar: %v\n", err)
		return 1
	}
	return 0
}

func argocdCmd(args []string, stdout, stderr io.Writer) int {
	const use = "usage: hnp-sidecar argocd install --fabric ID|NAME [--manifest URL|FILE] [--wait DURATION]\n"
	if len(args) == 0 || args[0] != "install" {
		fmt.Fprint(stderr, use)
		return 2
	}
	fs := flag.NewFlagSet("argocd install", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fabric := fs.String("fabric", "", "the fabric's NetBox id or name")
	manifest := fs.String("manifest", "", "Argo CD release manifest: an http(s) URL the sidecar fetches, or a local file sent to it "+
		"(default: the sidecar's HNP_ARGOCD_INSTALL_MANIFEST, Argo CD's pinned release)")
	wait := fs.Duration("wait", 0, "how long to wait for Argo CD's workloads to be ready (default: the sidecar's HNP_ARGOCD_INSTALL_TIMEOUT)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *fabric == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, use)
		return 2
	}
	body, err := client.InstallArgoCDBody(*manifest, *wait)
	if err != nil {
		fmt.Fprintf(stderr, "hnp-sidecar argocd install: %v\n", err)
		return 2
	}
	follow := time.Hour // the sidecar's own limit ends the job first
	if *wait > 0 {
		follow = *wait
	}
	return clientCall(stderr, follow+20*time.Minute, func(ctx context.Context, cfg config.ClientConfig) error {
		_, err := client.InstallArgoCD(ctx, cfg, *fabric, body, stdout)
		return err
	})
}

func stateCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "show") {
		fmt.Fprint(stderr, "usage: hnp-sidecar state list [--fabric ID|NAME] [--kind KIND] [--state STATE] [--json]\n"+
			"       hnp-sidecar state show FABRIC/KIND/NAMESPACE/NAME [--json]\n")
		return 2
	}
	fs := flag.NewFlagSet("state "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fabric := fs.String("fabric", "", "only this fabric (NetBox id or name)")
	kind := fs.String("kind", "", "only this kind (VPC, Connection, …)")
	st := fs.String("state", "", "only this state (draft, committed, pending, synced, drifted, orphaned)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	// Flags may come before or after the object in `state show`.
	var rest []string
	for a := args[1:]; ; {
		if err := fs.Parse(a); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		rest, a = append(rest, fs.Arg(0)), fs.Args()[1:]
	}
	cfg, err := config.LoadClientConfig(os.LookupEnv)
	if err != nil {
		fmt.Fprintf(stderr, "hnp-sidecar: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if args[0] == "list" {
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "hnp-sidecar state list: unexpected argument %q\n", rest[0])
			return 2
		}
		err = client.StateList(ctx, cfg, *fabric, *kind, *st, *asJSON, stdout)
	} else {
		parts := []string{}
		if len(rest) == 1 {
			parts = strings.Split(rest[0], "/")
		}
		if len(parts) != 4 {
			fmt.Fprintln(stderr, "hnp-sidecar state show: want FABRIC/KIND/NAMESPACE/NAME, e.g. fabric-1/VPC/default/vpc-1")
			return 2
		}
		err = client.StateShow(ctx, cfg, parts[0], parts[1], parts[2], parts[3], *asJSON, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "hnp-sidecar: %v\n", err)
		return 1
	}
	return 0
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
