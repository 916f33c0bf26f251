package cli

import (
	"context"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/spf13/cobra"
)

// clientFlags are the flags of every command that calls a running sidecar.
var clientFlags = []envFlag{sidecarURLFlag, apiTokenFileFlag}

// clientEnvHelp is the part of a client command's help about its
// configuration.
const clientEnvHelp = `It reads HNP_SIDECAR_URL (the running sidecar's URL) and HNP_API_TOKEN or HNP_API_TOKEN_FILE
(its API token, the one the sidecar has); --sidecar-url and --api-token-file beat them. The
token is taken from a file or the environment, never from the command line, where the
process list would show it.`

func addClientFlags(cmd *cobra.Command) {
	for _, f := range clientFlags {
		f.add(cmd)
	}
}

// clientCall runs fn against the running sidecar with a context that ends
// with ctx or after timeout.
func clientCall(cmd *cobra.Command, o Options, timeout time.Duration, fn func(context.Context, config.ClientConfig) error) error {
	cfg, err := config.LoadClientConfig(getenv(cmd, o.LookupEnv, clientFlags...))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	return fn(ctx, cfg)
}
