package breaker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/health"
	"github.com/stretchr/testify/require"
)

func TestReport(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.ConsecutiveFailures, o.OpenTimeout = 2, time.Hour })
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	f.set.now = func() time.Time { return t0 }

	r := f.set.Report(Git)
	require.Equal(t, health.OK, r.Status, "nothing called yet")
	require.Equal(t, map[string]any{"state": "closed", "remotes": map[string]health.Report{}}, r.Details)

	a := f.set.Get(Git, "https://git.example.com/org/a.git")
	c := f.set.Get(Git, "ssh://git@mirror.example.com:2222/org/a.git")
	f.set.Get(NetBox, "https://netbox.example.com") // another dependency: not in Git's report
	require.NoError(t, a.Do(t.Context(), ok))
	require.NoError(t, c.Do(t.Context(), ok))
	f.set.now = func() time.Time { return t0.Add(time.Minute) }
	secret := "https://alice:s3cret@mirror.example.com:2222/org/a.git?private_token=abc123"
	require.Error(t, c.Do(t.Context(), fail(fmt.Errorf("git: fetch %s: %w", secret, errDown))))

	r = f.set.Report(Git)
	require.Equal(t, health.Degraded, r.Status, "one failure does not open, but the last call failed")
	require.Equal(t, t0.UTC(), *r.LastSuccess)
	require.Equal(t, t0.Add(time.Minute).UTC(), *r.LastError)
	require.Equal(t, "git: fetch https://mirror.example.com:2222/org/a.git: "+errDown.Error(), r.Error)
	remotes := r.Details["remotes"].(map[string]health.Report)
	require.Len(t, remotes, 2)
	mirror := remotes["mirror.example.com:2222"]
	require.Equal(t, 1, mirror.Details["consecutive_failures"])
	require.Equal(t, "closed", mirror.Details["state"])
	require.Equal(t, health.Degraded, mirror.Status)
	require.Nil(t, remotes["git.example.com:443"].LastError)
	require.Equal(t, health.OK, remotes["git.example.com:443"].Status)

	require.Error(t, c.Do(t.Context(), fail(errors.New("git: password=hunter2 rejected"))))
	r = f.set.Report(Git)
	require.Equal(t, health.Down, r.Status)
	require.Equal(t, "open", r.Details["state"])
	mirror = r.Details["remotes"].(map[string]health.Report)["mirror.example.com:2222"]
	require.Equal(t, health.Down, mirror.Status)
	require.Equal(t, 2, mirror.Details["consecutive_failures"])
	require.Equal(t, time.Hour.Seconds(), mirror.Details["retry_in_seconds"])
	require.Equal(t, "git: password=[redacted] rejected", r.Error)
	require.Equal(t, health.OK, r.Details["remotes"].(map[string]health.Report)["git.example.com:443"].Status)
	require.Equal(t, health.OK, f.set.Report(NetBox).Status)

	all := fmt.Sprintf("%+v", r)
	for _, s := range []string{"alice", "s3cret", "abc123", "hunter2"} {
		require.NotContains(t, all, s)
	}
}

func TestReportHalfOpenIsDegraded(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.ConsecutiveFailures, o.OpenTimeout = 1, probeAfter })
	b := f.set.Get(Kubernetes, "")
	_ = b.Do(t.Context(), fail(errDown))
	require.Equal(t, health.Down, f.set.Report(Kubernetes).Status)
	require.Eventually(t, func() bool { return f.set.Report(Kubernetes).Status == health.Degraded }, 2*time.Second, 2*time.Millisecond)
	r := f.set.Report(Kubernetes)
	require.Equal(t, "half_open", r.Details["state"])
	require.Contains(t, r.Details["remotes"], "default")
}

func TestRemote(t *testing.T) {
	cases := map[string]string{
		"":                                       "",
		"https://git.example.com/org/r.git":      "git.example.com:443",
		"https://u:p@GIT.example.com:8443/x?y=z": "git.example.com:8443",
		"http://netbox:8080/api/":                "netbox:8080",
		"ssh://git@git.example.com/org/r.git":    "git.example.com:22",
		"git@github.com:org/repo.git":            "github.com:22",
		"user:secret@host.example:7000":          "host.example:7000",
		"argocd-server.argocd.svc":               "argocd-server.argocd.svc",
		"10.0.0.1:6443":                          "10.0.0.1:6443",
		"https://[::1]:6443":                     "[::1]:6443",
		"https://[::1]":                          "[::1]:443",
		"unix:///var/run/x.sock":                 "invalid",
		"https://exa mple.com":                   "invalid",
		"host with spaces":                       "invalid",
	}
	for in, want := range cases {
		require.Equal(t, want, Remote(in), in)
	}
}

// The status rules of one dependency: ok until a call fails; degraded
// while the last call failed (closed) or half-open; down open; ok again
// after a success. Neutral answers (the remote is up) are successes.
func TestReportStatusRules(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.ConsecutiveFailures, o.OpenTimeout = 3, time.Hour })
	b := f.set.Get(NetBox, "https://netbox.example.com")
	steps := []struct {
		name string
		call func(context.Context) error
		want health.Status
	}{
		{"success", ok, health.OK},
		{"one failure: closed, last call failed", fail(errDown), health.Degraded},
		{"a neutral answer: the remote is up", fail(neutralType{}), health.OK},
		{"failure again", fail(errDown), health.Degraded},
		{"second failure", fail(errDown), health.Degraded},
		{"third failure opens", fail(errDown), health.Down},
	}
	for _, s := range steps {
		_ = b.Do(t.Context(), s.call)
		require.Equal(t, s.want, f.set.Report(NetBox).Status, s.name)
		require.Equal(t, s.want, b.Report().Status, s.name)
	}
	other := f.set.Get(Git, "https://git.example.com/a.git")
	require.NoError(t, other.Do(t.Context(), ok))
	require.Equal(t, health.OK, f.set.Report(Git).Status, "another dependency is not affected")
}
