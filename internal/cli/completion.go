package cli

import (
	"github.com/spf13/cobra"
)

func newCompletionCommand() *cobra.Command {
	var noDesc bool
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print the script that makes the shell complete hnp-sidecar's commands, flags and some of their
values (log levels, kinds, states, file names). Load it in the current shell, or install it
where the shell loads completions from. Bash needs the bash-completion package.`,
		Example: `  # bash, this shell only; then for every new one
  source <(hnp-sidecar completion bash)
  hnp-sidecar completion bash > /etc/bash_completion.d/hnp-sidecar

  # zsh (with compinit), fish, PowerShell
  hnp-sidecar completion zsh > "${fpath[1]}/_hnp-sidecar"
  hnp-sidecar completion fish > ~/.config/fish/completions/hnp-sidecar.fish
  hnp-sidecar completion powershell | Out-String | Invoke-Expression`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      usageArgs(cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs)),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, out := cmd.Root(), cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, !noDesc)
			case "zsh":
				if noDesc {
					return root.GenZshCompletionNoDesc(out)
				}
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, !noDesc)
			default:
				if noDesc {
					return root.GenPowerShellCompletion(out)
				}
				return root.GenPowerShellCompletionWithDesc(out)
			}
		},
	}
	cmd.Flags().BoolVar(&noDesc, "no-descriptions", false, "complete without the descriptions of commands and flags")
	return cmd
}
