package state

import (
	"context"

	"github.com/githedgehog/hnp-sidecar/internal/health"
)

// Health reports the store as the plan's `state_management` component:
// down when Redis does not answer, with the last transition and the
// count of refused (illegal) transitions over all replicas.
func (s *Store) Health(ctx context.Context) health.Report {
	m, err := s.Meta(ctx)
	if err != nil {
		return health.Report{Status: health.Down, Error: err.Error()}
	}
	r := health.Report{Status: health.OK, LastSuccess: m.LastTransition,
		Details: map[string]any{"illegal_transitions": m.Illegal}}
	if m.LastTransition != nil {
		r.Details["last_transition"] = m.LastTransition
	}
	return r
}
