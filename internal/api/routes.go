package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/githedgehog/hnp-sidecar/internal/health"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
)

// Handler is the Server's routes.
func (s *Server) Handler() http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// Rate limits are per client address: the connection's, never a
	// header a client may set (X-Forwarded-For, X-Real-IP).
	e.IPExtractor = echo.ExtractIPDirect()
	e.Use(middleware.RequestID(), middleware.Recover(), s.accessLog)

	e.POST("/webhooks/netbox", s.Webhook)
	e.GET("/livez", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", s.readyz)
	e.GET("/api/v1/health", s.health)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.Metrics, promhttp.HandlerOpts{
		Registry: s.Metrics, ErrorHandling: promhttp.ContinueOnError, // queue depth needs Redis; the rest must stay scrapable during an outage
	})))

	api := e.Group("/api/v1", s.requireToken)
	api.GET("/deadletters", s.listDeadLetters)
	api.POST("/deadletters/:key/replay", s.replayDeadLetter)
	// Re-sync accepts the sidecar's token or NetBox credentials. The
	// Hedgehog plugin's own sync button posts to the plugin path; route it
	// from NetBox's origin to the sidecar to make the button work.
	e.POST("/api/v1/fabrics/:id/sync", s.syncFabric, s.requireTokenOrNetBox)
	e.GET("/api/v1/jobs/:id", s.getJob, s.requireTokenOrNetBox)
	e.POST("/plugins/hedgehog/api/fabrics/:id/gitops/sync/", s.syncFabric, s.requireTokenOrNetBox)
	// Object states: read-only, for the sidecar's token or NetBox users.
	e.GET("/api/v1/resources", s.listResources, s.requireTokenOrNetBox)
	e.GET("/api/v1/resources/:fabric/:kind/:namespace/:name", s.getResource, s.requireTokenOrNetBox)
	// Drift detection on demand (drift.go) and Argo CD installation
	// (install.go): the sidecar's token only.
	api.POST("/fabrics/:id/drift", s.detectDrift)
	e.GET("/api/v1/fabrics/:id/drift", s.lastDrift, s.requireTokenOrNetBox)
	api.POST("/fabrics/:id/argocd/install", s.installArgoCD)
	return e
}

// requireToken admits requests with "Authorization: Bearer <HNP_API_TOKEN>".
func (s *Server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.ownToken(c.Request().Header.Get(echo.HeaderAuthorization)) {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="hnp-sidecar"`)
			return c.JSON(http.StatusUnauthorized, map[string]string{"error": "missing or wrong bearer token (HNP_API_TOKEN)"})
		}
		return next(c)
	}
}

// accessLog logs every request except probes and scrapes at debug level,
// and server errors at error level. It never logs headers or bodies.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status, level := c.Response().Status, slog.LevelDebug
		if status >= 500 {
			level = slog.LevelError
		}
		if !s.Logger.Enabled(c.Request().Context(), level) {
			return nil
		}
		s.Logger.Log(c.Request().Context(), level, "http request",
			"method", c.Request().Method, "path", c.Path(), "status", status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000,
			"http_request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		return nil
	}
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	var reasons []string
	if err := s.Queue.Ping(ctx); err != nil {
		reasons = append(reasons, "redis unreachable")
	}
	if !s.Queue.Running() {
		reasons = append(reasons, "workers not running")
	}
	if len(reasons) > 0 {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "not ready", "reasons": reasons})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// HealthResponse is the body of GET /api/v1/health: Status is the worst
// component's (ok, degraded, down; a disabled component, configured off,
// worsens nothing), 503 when down. Callers with the sidecar's token or
// NetBox credentials NetBox accepts see each component's details
// (addresses, error text); others only the statuses.
type HealthResponse struct {
	Status     health.Status            `json:"status"`
	Components map[string]health.Report `json:"components"`
}

func (s *Server) health(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	detailed := s.ownToken(c.Request().Header.Get(echo.HeaderAuthorization))
	if _, ok := credentials(c.Request()); !detailed && ok && s.NetBox != nil {
		_, status := s.authenticate(c)
		if status == http.StatusTooManyRequests {
			return nil // answered
		}
		detailed = status == http.StatusOK
	}
	resp := HealthResponse{Status: health.OK, Components: map[string]health.Report{}}
	for _, comp := range s.Health {
		r := comp.Report(ctx)
		if !detailed {
			r = health.Report{Status: r.Status}
		}
		resp.Components[comp.Name] = r
		resp.Status = health.Worst(resp.Status, r.Status)
	}
	code := http.StatusOK
	if resp.Status == health.Down {
		code = http.StatusServiceUnavailable
	}
	return c.JSON(code, resp)
}

func (s *Server) listDeadLetters(c echo.Context) error {
	items, err := s.Queue.DeadLetters(c.Request().Context())
	if err != nil {
		s.Logger.Error("listing dead letters failed", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "queue unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]any{"count": len(items), "items": items})
}

func (s *Server) replayDeadLetter(c echo.Context) error {
	key := queue.Key(c.Param("key"))
	err := s.Queue.Replay(c.Request().Context(), key)
	switch {
	case err == nil:
		return c.JSON(http.StatusAccepted, map[string]string{"replayed": string(key)})
	case errors.Is(err, queue.ErrBadKey):
		return c.JSON(http.StatusBadRequest, map[string]string{"error": err.Error()})
	case errors.Is(err, queue.ErrNotFound):
		return c.JSON(http.StatusNotFound, map[string]string{"error": err.Error()})
	default:
		s.Logger.Error("replaying dead letter failed", "key", string(key), "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "queue unavailable"})
	}
}
