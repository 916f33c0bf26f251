package netbox

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/githedgehog/hnp-sidecar/webhooks"
)

// InstallWebhooks is what `hnp-sidecar bootstrap` does: check NetBox's
// version (a warning outside the tested range), then install the
// sidecar's webhook and event rules (webhooks/hnp-sidecar.json) pointing
// at sidecarURL, idempotently. It returns one line per step.
func (c *Client) InstallWebhooks(ctx context.Context, sidecarURL, secret string, logger *slog.Logger) ([]string, error) {
	v, err := c.Version(ctx)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: NetBox at %s: %w", c.base, err)
	}
	if !InTestedRange(v) {
		logger.Warn("NetBox version outside the tested range", "version", v, "tested", MinTestedVersion+"–"+MaxTestedVersion)
	}
	defs, err := webhooks.Load()
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	// NetBox 4.0's event rules take type_create/type_update/type_delete
	// rather than event_types.
	lines, err := c.bootstrap(ctx, defs, sidecarURL, secret, legacyEvents(v))
	if err != nil {
		return lines, fmt.Errorf("bootstrap: %w", err)
	}
	return append([]string{fmt.Sprintf("NetBox %s at %s", v, c.base)}, lines...), nil
}
