// Command hnp-sidecar runs the GitOps sidecar of the Hedgehog NetBox
// plugin, and the commands that go with it (bootstrap, resync, argocd
// install, state): see internal/cli, or `hnp-sidecar --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/githedgehog/hnp-sidecar/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	// The only place signals are caught: every command's context ends
	// on SIGINT or SIGTERM.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Options{
		Version: version, Stdout: os.Stdout, Stderr: os.Stderr,
		LookupEnv: os.LookupEnv, Environ: os.Environ,
	})
	stop()
	os.Exit(code)
}
