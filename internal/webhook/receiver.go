package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/githedgehog/hnp-sidecar/internal/health"
	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
)

// Enqueuer durably records a hint.
type Enqueuer interface {
	Enqueue(ctx context.Context, h queue.Hint) (queue.EnqueueResult, error)
}

// Options configure a Receiver.
type Options struct {
	// Secret is the webhook's shared secret. Empty means unsigned webhooks
	// are accepted, which the configuration allows only on request.
	Secret []byte
	// PreviousSecret, when set, is accepted too: the old secret while it
	// is being rotated (NetBox may still sign with it).
	PreviousSecret []byte
	// MaxBodyBytes caps the body; DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
	// EnqueueTimeout bounds the Redis write of one hint.
	EnqueueTimeout time.Duration
}

// Receiver is the POST /webhooks/netbox handler.
type Receiver struct {
	opts    Options
	q       Enqueuer
	logger  *slog.Logger
	metrics *metrics
	now     func() time.Time
	tracker health.Tracker
	kinds   map[string]managed // object type as NetBox spells it → kind
	// refused counts requests refused for their signature and remembers
	// the last one: shown in health's details, never as a status.
	refusedMu   sync.Mutex
	refused     int64
	lastRefused time.Time
}

// New builds a receiver that records hints in q.
func New(opts Options, q Enqueuer, logger *slog.Logger, reg prometheus.Registerer) (*Receiver, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.EnqueueTimeout <= 0 {
		opts.EnqueueTimeout = 5 * time.Second
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	kinds := map[string]managed{}
	for _, k := range kind.All() {
		kinds[k.ObjectType()] = managed{k, k.ObjectType()}
		kinds[k.Model] = managed{k, k.ObjectType()} // NetBox 4.0–4.3's "model"
	}
	return &Receiver{opts: opts, q: q, logger: logger, metrics: m, now: time.Now, kinds: kinds}, nil
}

// managed is a kind and its object type, looked up once per process.
type managed struct {
	kind.Kind
	objectType string
}

// lookup is kind.Lookup without its per-call work for the spellings NetBox
// sends.
func (r *Receiver) lookup(objectType string) (managed, bool) {
	if m, ok := r.kinds[objectType]; ok {
		return m, true
	}
	k, ok := kind.Lookup(objectType)
	return managed{k, k.ObjectType()}, ok
}

// Response is the JSON body of every answer.
type Response struct {
	Key     string `json:"key,omitempty"`
	Result  string `json:"result,omitempty"`
	Ignored string `json:"ignored,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Handle serves one webhook: cap, verify, parse, record, 202.
func (r *Receiver) Handle(c echo.Context) error {
	start := r.now()
	status, resp, result := r.handle(c.Request(), &reqLog{l: r.logger, c: c})
	m := r.metrics.of(result)
	m.received.Inc()
	m.duration.Observe(r.now().Sub(start).Seconds())
	if b, ok := acceptedJSON(resp); ok && status == http.StatusAccepted {
		return c.JSONBlob(status, b)
	}
	return c.JSON(status, resp)
}

// acceptedJSON encodes the answer to an accepted hint, {"key":…,"result":…}
// as c.JSON would, without reflection; ok is false for any other answer or
// a value that would need escaping.
func acceptedJSON(resp Response) ([]byte, bool) {
	if resp.Ignored != "" || resp.Reason != "" || resp.Error != "" || resp.Key == "" || resp.Result == "" ||
		!plainJSON(resp.Key) || !plainJSON(resp.Result) {
		return nil, false
	}
	b := make([]byte, 0, 32+len(resp.Key)+len(resp.Result))
	b = append(append(append(b, `{"key":"`...), resp.Key...), `","result":"`...)
	return append(append(b, resp.Result...), "\"}\n"...), true
}

// plainJSON: printable ASCII that a JSON string holds as is.
func plainJSON(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func (r *Receiver) handle(req *http.Request, log *reqLog) (int, Response, string) {
	body, err := readBody(req, r.opts.MaxBodyBytes)
	if errors.Is(err, ErrTooLarge) {
		log.Warn("webhook refused", "reason", err.Error())
		return http.StatusRequestEntityTooLarge, Response{Error: err.Error()}, "too_large"
	}
	if err != nil {
		log.Warn("webhook refused", "reason", err.Error())
		return http.StatusBadRequest, Response{Error: err.Error()}, "malformed"
	}
	if len(r.opts.Secret) > 0 {
		sig := req.Header.Get(SignatureHeader)
		if err := Verify(r.opts.Secret, body, sig); err != nil {
			if len(r.opts.PreviousSecret) == 0 || Verify(r.opts.PreviousSecret, body, sig) != nil {
				// A stranger's request is no fault of ours: counted in
				// hnp_webhooks_received_total{result="unauthorized"} and
				// health's details, never its status.
				r.refusedMu.Lock()
				r.refused, r.lastRefused = r.refused+1, r.now().UTC()
				r.refusedMu.Unlock()
				log.Warn("webhook refused", "reason", err.Error(), "remote", req.RemoteAddr)
				return http.StatusUnauthorized, Response{Error: err.Error()}, "unauthorized"
			}
			log.add("signed_with", "previous secret (rotation not finished: run bootstrap with the new one)")
		}
	}
	p, err := Parse(body)
	if err != nil {
		log.Warn("webhook refused", "reason", err.Error())
		return http.StatusBadRequest, Response{Error: err.Error()}, "malformed"
	}
	log.p = &p
	if !p.IsObjectEvent() {
		log.Debug("webhook ignored: not an object event")
		return http.StatusAccepted, Response{Ignored: p.Event, Reason: "event is not created, updated or deleted"}, "ignored"
	}
	k, ok := r.lookup(p.ObjectType)
	if !ok {
		log.Debug("webhook ignored: object type not managed")
		return http.StatusAccepted, Response{Ignored: p.ObjectType, Reason: "object type is not managed by hnp-sidecar"}, "ignored"
	}
	if p.Event == EventUpdated && ownSnapshots(p.Snapshots) { // OnlyOwnFields; Parse validated the body
		log.Debug("webhook ignored: only fields hnp-sidecar writes back changed")
		return http.StatusAccepted, Response{Ignored: p.ObjectType, Reason: "only fields hnp-sidecar writes back changed"}, "own_change"
	}
	h := queue.Hint{
		ObjectType: k.objectType, ObjectID: p.ObjectID, Kind: k.Name, Event: p.Event,
		User: p.User, RequestID: p.RequestID, LastUpdated: p.LastUpdated, Fabric: p.Fabric, PrevFabric: p.PrevFabric,
		Timestamp: p.Timestamp, ReceivedAt: r.now().UTC(),
	}
	ctx, cancel := context.WithTimeout(req.Context(), r.opts.EnqueueTimeout)
	defer cancel()
	res, err := r.q.Enqueue(ctx, h)
	if errors.Is(err, queue.ErrNotReplicated) {
		// Recorded on the primary and worked on, but not yet on the
		// replicas HNP_REDIS_WAIT_REPLICAS asks for: not acknowledged as
		// durable, so no 202.
		r.tracker.Failure(r.now(), err)
		log.Error("webhook recorded but not acknowledged by enough Redis replicas", "key", string(h.Key()), "err", err)
		return http.StatusServiceUnavailable, Response{Key: string(h.Key()), Error: "hint recorded on the Redis primary but not acknowledged " +
			"by enough replicas (HNP_REDIS_WAIT_REPLICAS): it is processed, but a failover now could lose it; a full reconcile catches up"}, "unreplicated"
	}
	if err != nil {
		err = fmt.Errorf("webhook: record hint: %w", err)
		r.tracker.Failure(r.now(), err)
		log.Error("webhook not recorded", "err", err)
		return http.StatusServiceUnavailable, Response{Error: "hint could not be recorded; NetBox does not retry, a full reconcile will catch up"}, "unavailable"
	}
	r.tracker.Success(r.now())
	log.Info("webhook accepted", "key", string(h.Key()), "result", string(res))
	return http.StatusAccepted, Response{Key: string(h.Key()), Result: string(res)}, "accepted"
}

// Health reports the receiver: degraded when its last hint could not be
// recorded and nothing succeeded since. Refused requests (bad signature,
// malformed) are counted in hnp_webhooks_received_total, not here: a
// stranger's POST must not degrade the service's health.
func (r *Receiver) Health(context.Context) health.Report {
	s := health.OK
	if r.tracker.FailingSinceSuccess() {
		s = health.Degraded
	}
	rep := r.tracker.Report(s)
	rep.Details = map[string]any{"signed": len(r.opts.Secret) > 0, "max_body_bytes": r.opts.MaxBodyBytes,
		"previous_secret_accepted": len(r.opts.PreviousSecret) > 0}
	r.refusedMu.Lock()
	if r.refused > 0 {
		rep.Details["refused_signatures"], rep.Details["last_refused_signature_at"] = r.refused, r.lastRefused
	}
	r.refusedMu.Unlock()
	return rep
}

// reqLog writes a request's log lines; their attributes (the request id,
// the payload's fields once parsed) are put together only when a line is
// written at an enabled level: the accept path logs one line.
type reqLog struct {
	l     *slog.Logger
	c     echo.Context
	p     *Payload
	attrs []any
}

func (r *reqLog) add(attrs ...any) { r.attrs = append(r.attrs, attrs...) }

func (r *reqLog) log(level slog.Level, msg string, attrs ...any) {
	ctx := context.Background()
	if !r.l.Enabled(ctx, level) {
		return
	}
	all := make([]any, 0, 12+len(r.attrs)+len(attrs))
	all = append(all, "http_request_id", r.c.Response().Header().Get(echo.HeaderXRequestID))
	if p := r.p; p != nil {
		all = append(all, "event", p.Event, "object_type", p.ObjectType, "object_id", p.ObjectID,
			"netbox_user", p.User, "request_id", p.RequestID)
	}
	r.l.Log(ctx, level, msg, append(append(all, r.attrs...), attrs...)...)
}

func (r *reqLog) Debug(msg string, attrs ...any) { r.log(slog.LevelDebug, msg, attrs...) }
func (r *reqLog) Info(msg string, attrs ...any)  { r.log(slog.LevelInfo, msg, attrs...) }
func (r *reqLog) Warn(msg string, attrs ...any)  { r.log(slog.LevelWarn, msg, attrs...) }
func (r *reqLog) Error(msg string, attrs ...any) { r.log(slog.LevelError, msg, attrs...) }
