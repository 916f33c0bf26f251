package netbox

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
)

// VisibilityChecker runs CheckVisibility at start and then periodically,
// logs what changed and keeps the last answer for health.
type VisibilityChecker struct {
	c       *Client
	kinds   []kind.Kind
	fabrics func(context.Context) ([]int64, error)
	every   time.Duration
	logger  *slog.Logger

	mu   sync.Mutex
	last Visibility
	at   time.Time
	err  error
}

// NewVisibilityChecker checks kinds and the fabrics fabrics returns (the
// ones the sidecar serves; nil: none) every interval (default 10m).
func NewVisibilityChecker(c *Client, kinds []kind.Kind, fabrics func(context.Context) ([]int64, error),
	every time.Duration, logger *slog.Logger) *VisibilityChecker {
	if every <= 0 {
		every = 10 * time.Minute
	}
	return &VisibilityChecker{c: c, kinds: kinds, fabrics: fabrics, every: every, logger: logger}
}

// Run checks now and every interval until ctx ends.
func (v *VisibilityChecker) Run(ctx context.Context) error {
	for {
		_, _ = v.Check(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(v.every):
		}
	}
}

// Check checks once, logs problems that are new, and keeps the answer.
func (v *VisibilityChecker) Check(ctx context.Context) (Visibility, error) {
	var ids []int64
	var err error
	if v.fabrics != nil {
		ids, err = v.fabrics(ctx)
	}
	var res Visibility
	if err == nil {
		res, err = v.c.CheckVisibility(ctx, v.kinds, ids)
	}
	v.mu.Lock()
	prev := v.last
	v.at, v.err = time.Now(), err
	if err == nil {
		v.last = res
	}
	v.mu.Unlock()
	switch {
	case err != nil:
		v.logger.Warn("NetBox visibility not checked", "err", err)
	case len(res.Problems) > 0 && !slices.Equal(prev.Problems, res.Problems):
		v.logger.Error("the sidecar's NetBox token cannot view everything it serves: objects it cannot see look deleted "+
			"(the deletion guard refuses mass removals; fix the token's permissions)", "user", res.User, "problems", res.Problems)
	case len(res.Problems) == 0 && len(prev.Problems) > 0:
		v.logger.Info("the sidecar's NetBox token can view every kind and fabric again", "user", res.User)
	}
	if err == nil && len(res.Unverified) > 0 && !slices.Equal(prev.Unverified, res.Unverified) {
		v.logger.Warn("NetBox permissions not verifiable with the sidecar's token", "user", res.User, "unverified", res.Unverified)
	}
	return res, err
}

// Last is the last answer, when it was checked, and the error of the last
// check (a NetBox outage; the answer is then the one before).
func (v *VisibilityChecker) Last() (Visibility, time.Time, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.last, v.at, v.err
}
