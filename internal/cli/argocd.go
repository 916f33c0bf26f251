package cli

import (
	"context"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/client"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/spf13/cobra"
)

func newArgoCDCommand(o Options) *cobra.Command {
	return groupCommand(&cobra.Command{
		Use:   "argocd",
		Short: "Argo CD in a fabric's cluster, through the running sidecar",
		Long: `Commands about Argo CD in a fabric's cluster, carried out by the running sidecar, which
holds the NetBox, Git and cluster credentials.

` + clientEnvHelp,
		Example: `  hnp-sidecar argocd install --fabric fabric-1`,
	}, newArgoCDInstallCommand(o))
}

func newArgoCDInstallCommand(o Options) *cobra.Command {
	var (
		fabric, manifest string
		wait             time.Duration
	)
	cmd := &cobra.Command{
		Use:   "install --fabric ID|NAME",
		Short: "Install Argo CD, then the fabric's repository Secret and Application (idempotent)",
		Long: `Ask the running sidecar to install Argo CD into the fabric's cluster and follow the job with
its progress, as POST /api/v1/fabrics/{id}/argocd/install does. The sidecar checks that its
credentials may do everything the installation needs (nothing is applied otherwise),
applies the release manifest server-side (CRDs first), waits for Argo CD's workloads, then
applies the fabric's repository Secret and Application. A second run changes nothing.

The manifest is the sidecar's HNP_ARGOCD_INSTALL_MANIFEST (a pinned Argo CD release)
unless --manifest names another: an http(s) URL the sidecar fetches, or a file read here
and sent (at most 32 MiB). The wait for the workloads is the sidecar's
HNP_ARGOCD_INSTALL_TIMEOUT unless --wait says otherwise. Exit code 0 when the job
succeeded, 1 when it failed or the sidecar could not be asked, 2 when --manifest cannot
be read.

` + clientEnvHelp,
		Example: `  hnp-sidecar argocd install --fabric fabric-1
  hnp-sidecar argocd install --fabric 3 --wait 20m \
    --manifest https://raw.githubusercontent.com/argoproj/argo-cd/v3.6.1/manifests/install.yaml
  hnp-sidecar argocd install --fabric fabric-1 --manifest ./install.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fabric == "" {
				return usageErrorf("--fabric must name a fabric")
			}
			body, err := client.InstallArgoCDBody(manifest, wait)
			if err != nil {
				return &usageError{err: err}
			}
			follow := time.Hour // the sidecar's own limit ends the job first
			if wait > 0 {
				follow = wait
			}
			return clientCall(cmd, o, follow+20*time.Minute, func(ctx context.Context, cfg config.ClientConfig) error {
				_, err := client.InstallArgoCD(ctx, cfg, fabric, body, o.Stdout)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&fabric, "fabric", "", "the fabric: its NetBox `ID|NAME` (required)")
	cmd.Flags().StringVar(&manifest, "manifest", "", "Argo CD release manifest, `URL|FILE`: an http(s) URL the sidecar fetches or a local file sent to it "+
		"(default: the sidecar's HNP_ARGOCD_INSTALL_MANIFEST)")
	cmd.Flags().DurationVar(&wait, "wait", 0, "how long to wait for Argo CD's workloads to be ready "+
		"(default: the sidecar's HNP_ARGOCD_INSTALL_TIMEOUT)")
	_ = cmd.MarkFlagRequired("fabric")
	addClientFlags(cmd)
	return cmd
}
