package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCommand(o Options) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Long: `Print hnp-sidecar's version: the one set at build time (make build and the Dockerfile set it
from git describe), else the Go module's version, else "dev". --version does the same.`,
		Example: `  hnp-sidecar version
  hnp-sidecar --version`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(o.Stdout, programName, buildVersion(o.Version))
			return nil
		},
	}
}

// buildVersion is v, the version set with -ldflags "-X main.version=...",
// or else the main module's version, or else "dev".
func buildVersion(v string) string {
	if v != "" {
		return v
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
