package problems

import (
	"context"
	"fmt"

	"github.com/githedgehog/hnp-sidecar/internal/health"
)

// Health reports the fabrics that cannot be synced until their owner fixes
// them: degraded while there is one (the service itself is fine), with
// each fabric's reason under details.fabrics.
func (s *Store) Health(ctx context.Context) health.Report {
	ps, err := s.List(ctx)
	if err != nil {
		return health.Report{Status: health.Down, Error: err.Error()}
	}
	r := health.Report{Status: health.OK, Details: map[string]any{"fabrics": ps}}
	if len(ps) > 0 {
		r.Status = health.Degraded
		r.Error = "fabric " + ps[0].Name + ": " + ps[0].Reason
		if len(ps) > 1 {
			r.Error += fmt.Sprintf(" (and %d more fabrics)", len(ps)-1)
		}
		since := ps[0].Since
		r.LastError = &since
	}
	return r
}
