// Package health holds the shapes of the service's health reports and a
// small tracker components use to remember their last success and error.
package health

import (
	"sync"
	"time"
)

// Status of one component.
type Status string

// Statuses, from best to worst; Disabled is a component configured off,
// which makes nothing worse.
const (
	OK       Status = "ok"
	Degraded Status = "degraded"
	Down     Status = "down"
	Disabled Status = "disabled"
)

// Worst returns the worse of a and b; Disabled is never worse than the
// other (Worst(Disabled, Disabled) is Disabled).
func Worst(a, b Status) Status {
	rank := map[Status]int{Disabled: -1, OK: 0, Degraded: 1, Down: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// Off is the report of a component configured off: {"status":"disabled"},
// with why (the setting) in Details.
func Off(why string) Report {
	return Report{Status: Disabled, Details: map[string]any{"reason": why}}
}

// FailedLast says whether r's last error is newer than its last success:
// the last call failed, whatever a breaker made of it.
func FailedLast(r Report) bool {
	return r.LastError != nil && (r.LastSuccess == nil || r.LastError.After(*r.LastSuccess))
}

// Report is what /api/v1/health shows for one component.
type Report struct {
	Status      Status         `json:"status"`
	LastSuccess *time.Time     `json:"last_success,omitempty"`
	LastError   *time.Time     `json:"last_error_at,omitempty"`
	Error       string         `json:"last_error,omitempty"`
	Details     map[string]any `json:"details,omitempty"`
}

// Tracker remembers a component's last success and last error. It is safe
// for concurrent use; the zero value is ready.
type Tracker struct {
	mu        sync.Mutex
	lastOK    time.Time
	lastErrAt time.Time
	lastErr   string
}

// Success records a success at t.
func (t *Tracker) Success(at time.Time) {
	t.mu.Lock()
	t.lastOK = at
	t.mu.Unlock()
}

// Failure records err at t.
func (t *Tracker) Failure(at time.Time, err error) {
	t.mu.Lock()
	t.lastErrAt, t.lastErr = at, err.Error()
	t.mu.Unlock()
}

// Report returns a report with status s and the tracked times filled in.
func (t *Tracker) Report(s Status) Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := Report{Status: s, Error: t.lastErr}
	if !t.lastOK.IsZero() {
		ok := t.lastOK.UTC()
		r.LastSuccess = &ok
	}
	if !t.lastErrAt.IsZero() {
		e := t.lastErrAt.UTC()
		r.LastError = &e
	}
	return r
}

// FailingSinceSuccess reports whether the last error is newer than the last
// success.
func (t *Tracker) FailingSinceSuccess() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.lastErrAt.IsZero() && t.lastErrAt.After(t.lastOK)
}
