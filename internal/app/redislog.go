package app

import (
	"context"
	"fmt"
	"log/slog"
)

// RedisLogger routes go-redis's own messages (pool dial failures and the
// like) into the service's JSON log. The CLI installs it with
// redis.SetLogger, which is process-wide.
type RedisLogger struct{ Logger *slog.Logger }

// Printf logs one go-redis message at warn level.
func (l RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.Logger.WarnContext(ctx, fmt.Sprintf(format, v...), "component", "redis")
}
