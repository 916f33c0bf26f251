package queue

import (
	"context"
	"log/slog"
)

// LogHandler is the work of a sidecar without NetBox (HNP_NETBOX_URL
// unset): it logs each key it is handed with what its hints said, and
// succeeds. Hints are still verified, recorded and acknowledged.
func LogHandler(logger *slog.Logger) Handler {
	return HandlerFunc(func(ctx context.Context, it Item) error {
		attrs := []any{"key", string(it.Key), "attempt", it.Attempt, "hints", len(it.Hints)}
		if h, ok := it.Latest(); ok {
			attrs = append(attrs, "kind", h.Kind, "event", h.Event, "netbox_user", h.User,
				"request_id", h.RequestID, "last_updated", h.LastUpdated)
		}
		logger.InfoContext(ctx, "processed", attrs...)
		return nil
	})
}
