package reconcile

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// Each object's six-state value is also shown on the plugin's own record
// for it, a HedgehogResource (gitops-resources/), which the plugin's UI
// lists: created when the sidecar first records a state for the object,
// patched on every change (only the fields that changed), deleted when
// the record ends. What was written is mirrored in Redis (state.Mirror):
// a run costs NetBox no read, and any replica can carry on. A plugin
// without gitops-resources/ (404 on its list) turns this off, told once.

// ResourceClient is the plugin's gitops-resources/ (netbox.Client).
type ResourceClient interface {
	ListResources(ctx context.Context, fabric int64) ([]netbox.Resource, error)
	CreateResource(ctx context.Context, fields map[string]any) (netbox.Resource, error)
	PatchResource(ctx context.Context, id int64, fields map[string]any) error
	DeleteResource(ctx context.Context, id int64) error
	ObjectTypeIDs(ctx context.Context) (map[string]int64, error)
}

// ResourceMirror keeps what NetBox holds per record (state.Store).
type ResourceMirror interface {
	Mirrored(ctx context.Context, fabric int64) (map[string]state.Mirror, bool, error)
	SetMirrored(ctx context.Context, fabric int64, set map[string]state.Mirror, del []string, primed, replace bool) error
	LockMirror(ctx context.Context, fabric int64, ttl, wait time.Duration) (func(context.Context), bool, error)
}

// reasonPrefix starts every state_change_reason the sidecar writes: a
// HedgehogResource with it and no record is the sidecar's to delete.
const reasonPrefix = "hnp-sidecar: "

// Feature states of gitops-resources/.
const (
	ResourcesUnknown = "unknown"  // not asked yet
	ResourcesOn      = "on"       // the plugin serves it
	ResourcesOff     = "off"      // the plugin answered 404: not shown
	ResourcesNone    = "disabled" // no client: not configured
)

// offRecheck is how long a 404 keeps the feature off before asking again
// (a plugin upgrade turns it on without a restart).
const offRecheck = time.Hour

// resources holds what this replica learnt of the plugin: whether it has
// gitops-resources/, and its object type ids (both re-derived from NetBox).
type resources struct {
	c      ResourceClient
	logger *slog.Logger
	mu     sync.Mutex
	status string
	offAt  time.Time
	types  map[string]int64 // nil until read
	// refused are the records whose HedgehogResource NetBox refused (by
	// "<fabric>/<record>"), with its answer: health shows them (this
	// replica's, at most maxRefusals).
	refused map[string]string
}

// maxRefusals bounds the refusals kept for health.
const maxRefusals = 1000

// refusal records NetBox's refusal of a record's HedgehogResource, or
// (err nil) that one landed since.
func (s *resources) refusal(fabric int64, field string, err error) {
	k := strconv.FormatInt(fabric, 10) + "/" + field
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		delete(s.refused, k)
		return
	}
	if s.refused == nil {
		s.refused = map[string]string{}
	}
	if _, has := s.refused[k]; has || len(s.refused) < maxRefusals {
		s.refused[k] = err.Error()
	}
}

// ResourcesRefused is how many records' HedgehogResources NetBox refuses
// (as this replica last wrote them) and one of its answers.
func (r *Reconciler) ResourcesRefused() (int, string) {
	if r.res == nil {
		return 0, ""
	}
	r.res.mu.Lock()
	defer r.res.mu.Unlock()
	for k, e := range r.res.refused {
		return len(r.res.refused), k + ": " + e
	}
	return 0, ""
}

func newResources(c ResourceClient, logger *slog.Logger) *resources {
	return &resources{c: c, logger: logger, status: ResourcesUnknown}
}

// usable reports whether to write HedgehogResources now.
func (s *resources) usable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status != ResourcesOff || time.Since(s.offAt) > offRecheck
}

// set records what NetBox answered about gitops-resources/; a change is
// logged (so "off" is told once, not per run).
func (s *resources) set(status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == ResourcesOff {
		s.offAt = time.Now()
	}
	if s.status == status {
		return
	}
	s.status = status
	if status == ResourcesOff {
		s.logger.Info("the plugin has no gitops-resources/ (404): states are not shown on HedgehogResources; asked again hourly")
	} else {
		s.logger.Info("states are shown on the plugin's HedgehogResources (gitops-resources/)")
	}
}

// objectTypes are the plugin's object type ids by model, read once; nil
// when NetBox does not tell them (the link to the object is then left out).
func (s *resources) objectTypes(ctx context.Context) map[string]int64 {
	s.mu.Lock()
	t := s.types
	s.mu.Unlock()
	if t != nil {
		return t
	}
	t, err := s.c.ObjectTypeIDs(ctx)
	if err != nil {
		s.logger.Warn("object types not read: HedgehogResources are written without their link to the object", "err", err)
		return nil
	}
	s.mu.Lock()
	s.types = t
	s.mu.Unlock()
	return t
}

// ResourcesStatus is whether states are shown on the plugin's
// HedgehogResources: on, off (the plugin has no gitops-resources/),
// unknown (not asked yet) or disabled (no NetBox write-back).
func (r *Reconciler) ResourcesStatus() string {
	if r.res == nil {
		return ResourcesNone
	}
	r.res.mu.Lock()
	defer r.res.mu.Unlock()
	return r.res.status
}
