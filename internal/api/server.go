// Package api is the sidecar's HTTP interface: the NetBox webhook route,
// probes, health, metrics, re-sync jobs, object states, drift reports,
// dead letters and the Argo CD installation (DESIGN.md §9). A Server is
// handed its parts explicitly; it owns no dependency and starts nothing but
// the installations it is asked for. The request and response types are
// shared with the client package, the CLI's side.
package api

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/argocd/install"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/drift"
	"github.com/githedgehog/hnp-sidecar/internal/health"
	"github.com/githedgehog/hnp-sidecar/internal/jobs"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/panics"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// Queue is the work queue as the API uses it.
type Queue interface {
	Ping(ctx context.Context) error
	Running() bool
	Enqueue(ctx context.Context, h queue.Hint) (queue.EnqueueResult, error)
	DeadLetters(ctx context.Context) ([]queue.DeadLetter, error)
	Replay(ctx context.Context, key queue.Key) error
}

// NetBox resolves fabrics and checks NetBox users' credentials.
type NetBox interface {
	GetFabric(ctx context.Context, id int64) (netbox.Fabric, error)
	ListFabrics(ctx context.Context) ([]netbox.Fabric, error)
	Authenticate(ctx context.Context, authorization string, cookies []*http.Cookie) (string, error)
	// CanViewFabric, CanChangeFabric and ViewableFabrics ask NetBox with
	// the caller's own credentials (permission.go).
	CanViewFabric(ctx context.Context, cr netbox.Credentials, id int64) (bool, error)
	CanChangeFabric(ctx context.Context, cr netbox.Credentials, id int64) (bool, error)
	ViewableFabrics(ctx context.Context, cr netbox.Credentials) (map[int64]bool, error)
}

// States reads object states.
type States interface {
	Get(ctx context.Context, k state.Key) (state.Record, error)
	List(ctx context.Context, f state.Filter) ([]state.Record, error)
	Fabrics(ctx context.Context) (map[int64]string, error)
}

// Drift checks a fabric's cluster against Git, and reads the last report
// (kept in Redis: the same from every replica).
type Drift interface {
	Check(ctx context.Context, fabric int64) (drift.Report, error)
	Last(ctx context.Context, fabric int64) (drift.Report, bool, error)
}

// Install is what the Argo CD installation endpoint needs.
type Install struct {
	// Manifest and Timeout are the defaults (HNP_ARGOCD_INSTALL_MANIFEST,
	// HNP_ARGOCD_INSTALL_TIMEOUT) a request may replace.
	Manifest string
	Timeout  time.Duration
	// Application is the fabric's Application and repository, as the
	// syncer applies them after each push.
	Application func(ctx context.Context, f netbox.Fabric) (argocd.App, argocd.Repository, error)
	// Cluster is where the fabric's Argo CD goes.
	Cluster func(f netbox.Fabric) (*rest.Config, error)
	// Run installs into the cluster rc reaches.
	Run func(ctx context.Context, rc *rest.Config, req install.Request) (install.Result, error)
	// Status (may be nil) shows how the installation goes on the fabric in
	// NetBox: fields of the plugin's (installFields).
	Status func(ctx context.Context, f netbox.Fabric, fields map[string]any)
}

// Component is one entry of /api/v1/health.
type Component struct {
	Name   string
	Report func(ctx context.Context) health.Report
}

// Parts are what a Server serves. NetBox, Drift and Install are nil when
// the sidecar runs without them; the routes that need them say so.
type Parts struct {
	Logger   *slog.Logger
	APIToken config.Secret
	// Metrics is served on /metrics; the handler counts its own errors there.
	Metrics interface {
		prometheus.Gatherer
		prometheus.Registerer
	}
	// Webhook answers POST /webhooks/netbox (webhook.Receiver.Handle).
	Webhook echo.HandlerFunc
	Queue   Queue
	Jobs    *jobs.Store
	States  States
	NetBox  NetBox
	Drift   Drift
	Install *Install
	Health  []Component
	// Guard bounds the routes that accept NetBox credentials: how long
	// NetBox's answers are reused, how fast one client may ask.
	Guard config.APIConfig
	// Panics records a panic in a background task (an installation); nil:
	// the task still fails alone, unrecorded.
	Panics *panics.Catcher
	// DriftTimeout bounds an on-demand drift check (2 minutes when zero);
	// its answer may take that long whatever the server's WriteTimeout.
	DriftTimeout time.Duration
}

// Server serves the sidecar's HTTP interface.
type Server struct {
	Parts
	identities *answers[identity]
	permits    *answers[bool]
	lists      *answers[map[int64]bool]
	limits     *limiter
	// Installations outlive their request: Stop cancels and waits for them.
	bgMu     sync.Mutex
	stopping bool
	bg       sync.WaitGroup
	ctx      context.Context
	cancel   context.CancelFunc
}

// New builds a Server on p.
func New(p Parts) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	ttl := cmp.Or(p.Guard.AuthCacheTTL, 30*time.Second)
	if p.DriftTimeout <= 0 {
		p.DriftTimeout = 2 * time.Minute
	}
	return &Server{Parts: p, ctx: ctx, cancel: cancel,
		identities: newAnswers[identity](ttl, 10000), permits: newAnswers[bool](ttl, 50000),
		lists: newAnswers[map[int64]bool](ttl, 1000), limits: newLimiter(p.Guard.RateLimit, p.Guard.RateBurst)}
}

// Stop cancels the installations still running and waits for them, or for
// ctx to end.
func (s *Server) Stop(ctx context.Context) error {
	s.bgMu.Lock()
	s.stopping = true
	s.bgMu.Unlock()
	s.cancel()
	done := make(chan struct{})
	go func() { s.bg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// goBackground runs fn as a tracked background task, unless Stop began.
func (s *Server) goBackground(fn func()) bool {
	s.bgMu.Lock()
	defer s.bgMu.Unlock()
	if s.stopping {
		return false
	}
	s.bg.Go(func() {
		if err := s.Panics.Run("api.background", fn); err != nil {
			s.Logger.Error("background task failed", "err", err)
		}
	})
	return true
}

func jsonError(c echo.Context, code int, msg string) error {
	return c.JSON(code, map[string]string{"error": msg})
}
