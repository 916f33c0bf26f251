package cli

import (
	"context"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/client"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/spf13/cobra"
)

func newResyncCommand(o Options) *cobra.Command {
	var (
		fabric       string
		timeout      time.Duration
		allowDeletes bool
	)
	cmd := &cobra.Command{
		Use:   "resync --fabric ID|NAME",
		Short: "Full reconcile of one fabric into Git, through the running sidecar",
		Long: `Ask the running sidecar for a full reconcile of one fabric: every object is read again from
NetBox, validated, rendered and committed to the fabric's Git repository in one commit (none
when nothing changed), as the plugin's sync button and POST /api/v1/fabrics/{id}/sync do.
The job is followed with a progress bar until it ends. Exit code 0 when it succeeded (the
objects, the invalid ones and the commit are printed), 1 when it failed (with the reason),
when the sidecar could not be asked, or when --timeout passed first.

A run that would remove more than HNP_MAX_DELETE_FRACTION (default 0.5) of the fabric's files
in Git without a delete webhook for each is refused (a NetBox token that may not see every
object looks exactly like mass deletion): nothing is pushed and the fabric shows why. When the
objects really are gone, --allow-deletes lets this one run remove them.

` + clientEnvHelp,
		Example: `  hnp-sidecar resync --fabric 3
  hnp-sidecar resync --fabric 3 --allow-deletes
  hnp-sidecar resync --fabric fabric-1 --timeout 2m --sidecar-url http://127.0.0.1:8090 \
    --api-token-file /run/secrets/hnp-api-token`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fabric == "" {
				return usageErrorf("--fabric must name a fabric")
			}
			return clientCall(cmd, o, timeout, func(ctx context.Context, cfg config.ClientConfig) error {
				_, err := client.Resync(ctx, cfg, fabric, client.ResyncOptions{AllowDeletes: allowDeletes}, o.Stdout)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&fabric, "fabric", "", "the fabric: its NetBox `ID|NAME` (required)")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "give up following the job after this long")
	cmd.Flags().BoolVar(&allowDeletes, "allow-deletes", false,
		"confirm that this run may remove more than HNP_MAX_DELETE_FRACTION of the fabric's files (objects deleted in NetBox without a webhook)")
	_ = cmd.MarkFlagRequired("fabric")
	addClientFlags(cmd)
	return cmd
}
