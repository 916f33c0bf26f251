package app

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/health"
	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// newVisibility checks, at start and every interval, that the sidecar's
// NetBox token can view every kind and every fabric it serves: the
// fabrics NetBox lists and those it has states for (a fabric the token
// cannot see is not in the list).
func newVisibility(nb *netbox.Client, states *state.Store, every time.Duration, logger *slog.Logger) *netbox.VisibilityChecker {
	served := func(ctx context.Context) ([]int64, error) {
		known, err := states.Fabrics(ctx)
		if err != nil {
			return nil, err
		}
		listed, err := nb.ListFabrics(ctx)
		if err != nil {
			return nil, err
		}
		ids := map[int64]bool{}
		for id := range known {
			ids[id] = true
		}
		for _, f := range listed {
			ids[f.ID] = true
		}
		return slices.Sorted(maps.Keys(ids)), nil
	}
	return netbox.NewVisibilityChecker(nb, kind.All(), served, every, logger)
}

// visibilityHealth is the netbox_visibility component: degraded while the
// token cannot view something the sidecar serves (objects it cannot see
// look deleted; the deletion guard holds such runs back).
func visibilityHealth(v *netbox.VisibilityChecker) func(context.Context) health.Report {
	return func(context.Context) health.Report {
		res, at, err := v.Last()
		r := health.Report{Status: health.OK, Details: map[string]any{"user": res.User}}
		if !at.IsZero() {
			t := at.UTC()
			r.Details["checked_at"] = t
		}
		if len(res.Problems) > 0 {
			r.Status, r.Error = health.Degraded, strings.Join(res.Problems, "; ")
			r.Details["problems"] = res.Problems
		}
		if len(res.Unverified) > 0 {
			r.Details["unverified"] = res.Unverified
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			r.Details["last_check_error"] = err.Error()
		}
		return r
	}
}
