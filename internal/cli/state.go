package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/githedgehog/hnp-sidecar/internal/client"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// stateTimeout bounds a state command.
const stateTimeout = time.Minute

func newStateCommand(o Options) *cobra.Command {
	return groupCommand(&cobra.Command{
		Use:   "state",
		Short: "Objects' GitOps states, through the running sidecar",
		Long: `Show the GitOps state the running sidecar tracks for each object (draft, committed, pending,
synced, drifted, orphaned; the README's Object states), from its /api/v1/resources.

` + clientEnvHelp,
		Example: `  hnp-sidecar state list --fabric fabric-1 --state draft
  hnp-sidecar state show fabric-1/VPC/default/vpc-1`,
	}, newStateListCommand(o), newStateShowCommand(o))
}

func newStateListCommand(o Options) *cobra.Command {
	var (
		fabric, kindName, st string
		asJSON               bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List objects' states as a table or JSON",
		Long: `List the objects whose state the running sidecar tracks, all of them or those that match every
filter given: a table with each object's fabric, kind, namespace, name, state, commit, last
change and reason, then the count; with --json one JSON object per line instead.

` + clientEnvHelp,
		Example: `  hnp-sidecar state list
  hnp-sidecar state list --fabric fabric-1 --kind VPC --state drifted
  hnp-sidecar state list --state draft --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return clientCall(cmd, o, stateTimeout, func(ctx context.Context, cfg config.ClientConfig) error {
				return client.StateList(ctx, cfg, fabric, kindName, st, asJSON, o.Stdout)
			})
		},
	}
	cmd.Flags().StringVar(&fabric, "fabric", "", "only this fabric: its NetBox `ID|NAME`")
	cmd.Flags().StringVar(&kindName, "kind", "", "only this `kind` (VPC, Connection, …)")
	cmd.Flags().StringVar(&st, "state", "", "only this `state` (draft, committed, pending, synced, drifted, orphaned)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per line instead of a table")
	var kinds, states []string
	for _, k := range kind.CRs() {
		kinds = append(kinds, k.Name)
	}
	for _, s := range state.States {
		states = append(states, string(s))
	}
	_ = cmd.RegisterFlagCompletionFunc("kind", cobra.FixedCompletions(kinds, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("state", cobra.FixedCompletions(states, cobra.ShellCompDirectiveNoFileComp))
	addClientFlags(cmd)
	return cmd
}

func newStateShowCommand(o Options) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show FABRIC/KIND/NAMESPACE/NAME",
		Short: "Show one object's state and its history",
		Long: `Show one object's state (its reason, commit and file in Git when it has them) and every
change of it, newest first; with --json the record as JSON. FABRIC is the fabric's NetBox
id or name. Exit code 1 when the sidecar does not know the object.

` + clientEnvHelp,
		Example: `  hnp-sidecar state show fabric-1/VPC/default/vpc-1
  hnp-sidecar state show 3/Server/default/server-01 --json`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			parts := strings.Split(args[0], "/")
			if len(parts) != 4 {
				return usageErrorf("want FABRIC/KIND/NAMESPACE/NAME, e.g. fabric-1/VPC/default/vpc-1, not %q", args[0])
			}
			return clientCall(cmd, o, stateTimeout, func(ctx context.Context, cfg config.ClientConfig) error {
				return client.StateShow(ctx, cfg, parts[0], parts[1], parts[2], parts[3], asJSON, o.Stdout)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the record as JSON")
	addClientFlags(cmd)
	return cmd
}
