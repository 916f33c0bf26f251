package lease

import (
	"context"
	"maps"
	"slices"

	"github.com/githedgehog/hnp-sidecar/internal/health"
)

// Health is the "leases" component of /api/v1/health: this replica's
// name, the replicas alive at its last heartbeat and the fabrics it
// writes. Degraded while heartbeats fail: its leases then expire and move.
func (m *Manager) Health(context.Context) health.Report {
	status := health.OK
	if m.beat.FailingSinceSuccess() {
		status = health.Degraded
	}
	r := m.beat.Report(status)
	m.mu.Lock()
	fabrics := slices.Sorted(maps.Keys(m.held))
	live := append([]string(nil), m.live...)
	m.mu.Unlock()
	r.Details = map[string]any{"replica": m.opts.Holder, "replicas": live, "fabrics": fabrics, "ttl": m.opts.TTL.String()}
	return r
}
