package problems

import (
	"context"
	"fmt"

	"github.com/githedgehog/hnp-sidecar/internal/health"
)

// Health reports the fabrics that cannot be synced until their owner fixes
// them (details.fabrics), and those whose data makes NetBox refuse every
// write-back of their status (details.refused_writebacks, the status then
// being in the fabric's journal): degraded while there is one; the
// service itself is fine.
func (s *Store) Health(ctx context.Context) health.Report {
	ps, err := s.List(ctx)
	if err != nil {
		return health.Report{Status: health.Down, Error: err.Error()}
	}
	rs, err := s.FabricRefusals(ctx)
	if err != nil {
		return health.Report{Status: health.Down, Error: err.Error()}
	}
	r := health.Report{Status: health.OK, Details: map[string]any{"fabrics": ps, "refused_writebacks": rs}}
	switch {
	case len(ps) > 0:
		r.Error = "fabric " + ps[0].Name + ": " + ps[0].Reason
		if n := len(ps) + len(rs) - 1; n > 0 {
			r.Error += fmt.Sprintf(" (and %d more fabrics)", n)
		}
		r.LastError = &ps[0].Since
	case len(rs) > 0:
		r.Error = fmt.Sprintf("fabric %s: NetBox refuses to save its GitOps status (%s); it is in the fabric's journal", rs[0].Name, rs[0].Answer)
		if len(rs) > 1 {
			r.Error += fmt.Sprintf(" (and %d more fabrics)", len(rs)-1)
		}
		r.LastError = &rs[0].Since
	}
	if r.Error != "" {
		r.Status = health.Degraded
	}
	return r
}
