package health

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWorst(t *testing.T) {
	cases := []struct{ a, b, want Status }{
		{OK, OK, OK},
		{OK, Degraded, Degraded},
		{Degraded, OK, Degraded},
		{Degraded, Down, Down},
		{Down, Degraded, Down},
		{OK, Disabled, OK},
		{Disabled, OK, OK},
		{Disabled, Degraded, Degraded},
		{Down, Disabled, Down},
		{Disabled, Disabled, Disabled},
	}
	for _, c := range cases {
		require.Equal(t, c.want, Worst(c.a, c.b), "%s, %s", c.a, c.b)
	}
	overall := OK // as /api/v1/health folds its components
	for _, s := range []Status{Disabled, OK, Disabled} {
		overall = Worst(overall, s)
	}
	require.Equal(t, OK, overall, "components configured off do not worsen the whole")
}

func TestOff(t *testing.T) {
	r := Off("HNP_ARGOCD_DRIVER=off")
	require.Equal(t, Disabled, r.Status)
	require.Equal(t, "HNP_ARGOCD_DRIVER=off", r.Details["reason"])
}

func TestFailedLast(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Second)
	cases := []struct {
		name    string
		ok, err *time.Time
		want    bool
	}{
		{"never called", nil, nil, false},
		{"only successes", &t0, nil, false},
		{"only a failure", nil, &t0, true},
		{"failure after success", &t0, &t1, true},
		{"success after failure", &t1, &t0, false},
	}
	for _, c := range cases {
		require.Equal(t, c.want, FailedLast(Report{LastSuccess: c.ok, LastError: c.err}), c.name)
	}
	var tr Tracker
	tr.Success(t0)
	require.False(t, FailedLast(tr.Report(OK)))
	tr.Failure(t1, errors.New("connection refused"))
	require.True(t, FailedLast(tr.Report(OK)))
	require.True(t, tr.FailingSinceSuccess())
}
