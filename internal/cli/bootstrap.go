package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/spf13/cobra"
)

// bootstrapTimeout bounds a bootstrap run.
const bootstrapTimeout = 2 * time.Minute

func newBootstrapCommand(o Options) *cobra.Command {
	flags := []envFlag{netboxURLFlag, netboxTokenFileFlag, bootstrapSidecarURLFlag, webhookSecretFileFlag}
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Install the sidecar's webhook and event rule into NetBox (idempotent)",
		Long: `Create, or bring in line, the NetBox webhook "hnp-sidecar", which posts to
<sidecar URL>/webhooks/netbox signed with the webhook secret, and the event rule that fires
it when a Hedgehog object is created, updated or deleted. NetBox's version is checked first
(a warning outside the tested 4.0–4.7); on NetBox 4.0 the event rule is written in that
version's shape (type_create, type_update, type_delete instead of event_types). A second run
changes nothing and says "unchanged".
What it did is printed on standard output, one line per object; warnings are JSON log lines
on standard error. It gives up after 2 minutes.

It reads HNP_NETBOX_URL, HNP_NETBOX_TOKEN (or HNP_NETBOX_TOKEN_FILE), HNP_SIDECAR_URL and
HNP_WEBHOOK_SECRET (or HNP_WEBHOOK_SECRET_FILE), all required; the flags beat them. The
secrets are taken from files, so that they do not show in the process list. Run it again,
with the new secret, to rotate the webhook secret (see the README's NetBox side).`,
		Example: `  # everything from the environment
  hnp-sidecar bootstrap

  # the same with flags
  hnp-sidecar bootstrap --netbox-url https://netbox.example.com \
    --netbox-token-file /run/secrets/netbox-token \
    --sidecar-url http://hnp-sidecar.hnp-sidecar.svc:8090 \
    --webhook-secret-file /run/secrets/hnp-webhook-secret`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return bootstrap(cmd.Context(), o, getenv(cmd, o.LookupEnv, flags...))
		},
	}
	for _, f := range flags {
		f.add(cmd)
	}
	return cmd
}

func bootstrap(ctx context.Context, o Options, env config.Getenv) error {
	cfg, err := config.LoadBootstrapConfig(env)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(o.Stderr, nil))
	ctx, cancel := context.WithTimeout(ctx, bootstrapTimeout)
	defer cancel()
	nb, err := netbox.New(netbox.Options{URL: cfg.NetBoxURL, Token: cfg.NetBoxToken.Reveal(), CABundle: cfg.NetBoxCABundle})
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	lines, err := nb.InstallWebhooks(ctx, cfg.SidecarURL, cfg.WebhookSecret.Reveal(), logger)
	for _, l := range lines {
		fmt.Fprintln(o.Stdout, l)
	}
	return err
}
