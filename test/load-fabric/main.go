// Command load-fabric loads a generated Hedgehog fabric into NetBox through
// the plugin's REST API: the sample fabric of `make run`, or a fabric of N
// switches for benchmarks. Objects that exist are left alone.
//
//	load-fabric -netbox-url URL -token TOKEN [-fabric NAME] [-switches N] [-git-url URL]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/fabric"
)

func main() {
	url := flag.String("netbox-url", os.Getenv("NETBOX_URL"), "NetBox base URL")
	token := flag.String("token", os.Getenv("NETBOX_TOKEN"), "NetBox API token (v1 or v2)")
	name := flag.String("fabric", "fabric-1", "fabric name")
	switches := flag.Int("switches", 0, "generate a fabric of N switches instead of the sample fabric")
	gitURL := flag.String("git-url", "", "Git repository URL to set on the fabric (legacy git_repository_url)")
	flag.Parse()
	if err := run(*url, *token, *name, *switches, *gitURL); err != nil {
		fmt.Fprintln(os.Stderr, "load-fabric:", err)
		os.Exit(1)
	}
}

func run(url, token, name string, switches int, gitURL string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	nb, err := netbox.New(netbox.Options{URL: url, Token: token})
	if err != nil {
		return err
	}
	opts := fabric.SampleOptions()
	if switches > 0 {
		opts = fabric.ForSwitches(switches)
	}
	// Argo CD syncs it (the plugin's default gitops_tool is manual).
	fields := map[string]any{"gitops_directory": "/" + name + "/", "gitops_tool": "argocd"}
	if gitURL != "" {
		fields["git_repository_url"], fields["git_branch"] = gitURL, "main"
	}
	start := time.Now()
	id, err := fabric.EnsureFabric(ctx, nb, name, fields)
	if err != nil {
		return err
	}
	objs := fabric.Generate(opts)
	n, err := fabric.Load(ctx, nb, id, objs)
	if err != nil {
		return err
	}
	fmt.Printf("fabric %q (id %d): %d objects, %d created, in %s\n", name, id, len(objs), n, time.Since(start).Round(time.Millisecond))
	return nil
}
