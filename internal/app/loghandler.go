package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/githedgehog/hnp-sidecar/internal/queue"
)

// LogHandler is the work handler until the reconciler exists: it logs each
// key it is handed with what its hints said, and succeeds.
func LogHandler(logger *slog.Logger) queue.Handler {
	return queue.HandlerFunc(func(ctx context.Context, it queue.Item) error {
		attrs := []any{"key", string(it.Key), "attempt", it.Attempt, "hints", len(it.Hints)}
		if h, ok := it.Latest(); ok {
			attrs = append(attrs, "kind", h.Kind, "event", h.Event, "netbox_user", h.User,
				"request_id", h.RequestID, "last_updated", h.LastUpdated)
		}
		logger.InfoContext(ctx, "processed", attrs...)
		return nil
	})
}

// RedisLogger routes go-redis's own messages (pool dial failures and the
// like) into the service's JSON log. main installs it with redis.SetLogger,
// which is process-wide.
type RedisLogger struct{ Logger *slog.Logger }

// Printf logs one go-redis message at warn level.
func (l RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.Logger.WarnContext(ctx, fmt.Sprintf(format, v...), "component", "redis")
}
