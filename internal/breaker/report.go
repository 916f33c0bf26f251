package breaker

import (
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/health"
)

// status maps a breaker state to a health status (a closed breaker may
// still report degraded: see Report).
func (s State) status() health.Status {
	switch s {
	case HalfOpen:
		return health.Degraded
	case Open:
		return health.Down
	}
	return health.OK
}

// Report is one breaker's health: down open, degraded half-open or closed
// after a failure newer than the last success (the breaker has not opened
// yet, but the last call failed), else ok; with the last success, the last
// failure (time and sanitized message) and, in Details, the state and the
// failures since the last success.
func (b *Breaker) Report() health.Report {
	_, r := b.report()
	return r
}

func (b *Breaker) report() (State, health.Report) {
	st := b.State() // before b.mu: it may run transition
	now := b.set.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	status := st.status()
	if st == Closed && b.consecutive > 0 {
		status = health.Degraded
	}
	r := health.Report{Status: status, Error: b.lastErr, Details: map[string]any{
		"state": string(st), "consecutive_failures": b.consecutive,
	}}
	r.LastSuccess = utc(b.lastOK)
	r.LastError = utc(b.lastFail)
	if st == Open {
		r.Details["retry_in_seconds"] = max(0, b.openedAt.Add(b.set.opts.OpenTimeout).Sub(now)).Seconds()
	}
	return st, r
}

func utc(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// Report is dep's part of /api/v1/health: the worst status of its breakers
// (so degraded as soon as one remote's last call failed), its newest
// success and error, and in Details its worst "state" and every remote's
// own report under "remotes" (keyed by host:port, "default" for "").
// A dependency nothing has called yet is ok.
func (s *Set) Report(dep Dependency) health.Report {
	r := health.Report{Status: health.OK}
	worst := Closed
	remotes := map[string]health.Report{}
	for _, b := range s.all(dep) {
		st, br := b.report()
		key := b.remote
		if key == "" {
			key = "default"
		}
		remotes[key] = br
		r.Status = health.Worst(r.Status, br.Status)
		if st.gauge() > worst.gauge() {
			worst = st
		}
		if newer(br.LastSuccess, r.LastSuccess) {
			r.LastSuccess = br.LastSuccess
		}
		if newer(br.LastError, r.LastError) {
			r.LastError, r.Error = br.LastError, br.Error
		}
	}
	r.Details = map[string]any{"state": string(worst), "remotes": remotes}
	return r
}

func newer(a, b *time.Time) bool { return a != nil && (b == nil || a.After(*b)) }
