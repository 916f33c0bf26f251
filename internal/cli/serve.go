package cli

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/githedgehog/hnp-sidecar/internal/app"
	"github.com/githedgehog/hnp-sidecar/internal/config"
)

func newServeCommand(o Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the sidecar service",
		Long: `Run the sidecar: the signed webhook receiver, the Redis work queue and its workers, the
reconcile of each fabric into Git, Argo CD and the drift checks, and the API, probes and
metrics on one HTTP server. It runs until SIGINT or SIGTERM, then lets running work finish
(HNP_SHUTDOWN_TIMEOUT) and exits 0. A configuration that does not validate, a failed
start-up or a component that fails makes it exit 1.

Logs are JSON lines on standard output. An HNP_* variable that is not a configuration
variable is logged as a warning, so that a typo does not go unnoticed.

--listen-addr and --log-level beat HNP_LISTEN_ADDR and HNP_LOG_LEVEL. Every other setting
is an HNP_* environment variable, read and validated at start-up; the README's
Configuration section lists them all. HNP_REDIS_URL and HNP_API_TOKEN are required, and so
is HNP_WEBHOOK_SECRET unless HNP_WEBHOOK_ALLOW_UNSIGNED=true; HNP_NETBOX_URL with
HNP_NETBOX_TOKEN turns on reconciling into Git. A secret can instead be a file named by
<NAME>_FILE, e.g. HNP_API_TOKEN_FILE.`,
		Example: `  export HNP_REDIS_URL=redis://127.0.0.1:6379/0
  export HNP_API_TOKEN_FILE=/run/secrets/hnp-api-token HNP_WEBHOOK_SECRET_FILE=/run/secrets/hnp-webhook-secret
  hnp-sidecar serve --listen-addr 127.0.0.1:8090 --log-level debug`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), o, getenv(cmd, o.LookupEnv, listenAddrFlag, logLevelFlag))
		},
	}
	listenAddrFlag.add(cmd)
	logLevelFlag.add(cmd)
	_ = cmd.RegisterFlagCompletionFunc(logLevelFlag.name, cobra.FixedCompletions(
		[]string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// serve runs the service until ctx ends (SIGINT, SIGTERM) or a component
// fails, then stops it within HNP_SHUTDOWN_TIMEOUT.
func serve(ctx context.Context, o Options, env config.Getenv) error {
	cfg, err := config.LoadConfig(env)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(o.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	logger = logger.With("version", buildVersion(o.Version))
	redis.SetLogger(app.RedisLogger{Logger: logger})
	for _, name := range config.UnknownVariables(o.Environ()) {
		logger.Warn("unknown configuration variable ignored", "variable", name)
	}

	a, err := app.New(cfg, logger, nil)
	if err != nil {
		logger.Error("start-up failed", "err", err)
		return &reportedError{code: exitFailed}
	}
	if err := a.Start(ctx); err != nil {
		logger.Error("start-up failed", "err", err)
		return &reportedError{code: exitFailed}
	}
	code := exitOK
	select {
	case <-ctx.Done():
		logger.Info("signal received; shutting down")
	case err := <-a.Err():
		logger.Error("component failed; shutting down", "err", err)
		code = exitFailed
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout+5*time.Second)
	defer cancel()
	if err := a.Stop(sctx); err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("shutdown incomplete", "err", err)
		code = exitFailed
	}
	if code != exitOK {
		return &reportedError{code: code}
	}
	return nil
}
