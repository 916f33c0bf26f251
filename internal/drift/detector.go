// Package kube compares each fabric's live Hedgehog CRs with what Git holds:
// drift (a live spec that differs from the committed one after the same
// normalisation, with a field-level diff), orphans (live CRs that NetBox and
// Git do not have: reported, never deleted) and whether each switch's agent
// has applied its config. It moves object states synced ⇄ drifted and
// records orphans; the fabric's next reconcile shows them in NetBox.
package drift

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"k8s.io/client-go/dynamic"

	"github.com/githedgehog/hnp-sidecar/internal/cluster"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// Desired is what Git holds for a fabric.
type Desired interface {
	// Committed returns the fabric as NetBox has it, the tip of its branch
	// and its CR files (managed/), fetched now.
	Committed(ctx context.Context, fabric int64) (netbox.Fabric, string, map[string][]byte, error)
}

// States is the object state store.
type States interface {
	Load(ctx context.Context, fabric int64) (map[string]state.Record, error)
	Apply(ctx context.Context, changes ...state.Change) []error
	Fabrics(ctx context.Context) (map[int64]string, error)
}

// Clusters hands out a client for each fabric's cluster (cluster.Clusters).
type Clusters interface {
	For(f netbox.Fabric) (dynamic.Interface, string, error)
}

// Options tunes a Detector.
type Options struct {
	// Interval between checks of every fabric; 0: on demand only.
	Interval time.Duration
	// HeartbeatMaxAge is how old an agent's last heartbeat may be (2m).
	HeartbeatMaxAge time.Duration
	// ReasonDiffs is how many differences a drifted reason lists (5).
	ReasonDiffs int
	// Redis keeps each fabric's last report under {Prefix}:drift:report:…
	// for ReportTTL (3 Intervals, at least 5m; 1h without an Interval),
	// read the same by every replica. Nil: kept in memory.
	Redis     redis.UniversalClient
	Prefix    string
	ReportTTL time.Duration
	// Owner decides which fabrics the periodic check covers here; nil:
	// all. A check asked for (Check) runs wherever it is asked.
	Owner Owner
}

// Detector checks fabrics against their clusters.
type Detector struct {
	desired  Desired
	states   States
	clusters Clusters
	opts     Options
	logger   *slog.Logger
	show     func(ctx context.Context, fabric int64, keys []state.Key)
	now      func() time.Time
	m        *metrics
	reports  reportStore
}

// New builds a Detector. show (may be nil) takes the states a check moved
// to NetBox (reconcile's ShowStates), without a reconcile.
func New(desired Desired, states States, clusters Clusters, opts Options, show func(ctx context.Context, fabric int64, keys []state.Key),
	logger *slog.Logger, reg prometheus.Registerer) (*Detector, error) {
	if opts.HeartbeatMaxAge <= 0 {
		opts.HeartbeatMaxAge = 2 * time.Minute
	}
	if opts.ReasonDiffs <= 0 {
		opts.ReasonDiffs = 5
	}
	if opts.ReportTTL <= 0 {
		opts.ReportTTL = time.Hour
		if opts.Interval > 0 {
			opts.ReportTTL = max(3*opts.Interval, 5*time.Minute)
		}
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	var reports reportStore = &memReports{last: map[int64]Report{}}
	if opts.Redis != nil {
		reports = &redisReports{rdb: opts.Redis, prefix: opts.Prefix, ttl: opts.ReportTTL}
	}
	return &Detector{desired: desired, states: states, clusters: clusters, opts: opts, logger: logger,
		show: show, now: time.Now, m: m, reports: reports}, nil
}

// Item is one object in a report.
type Item struct {
	Kind      string       `json:"kind"`
	Namespace string       `json:"namespace"`
	Name      string       `json:"name"`
	State     state.State  `json:"state,omitempty"`
	Diff      []Difference `json:"diff,omitempty"`
}

// Report is one check of one fabric.
type Report struct {
	Fabric     int64     `json:"fabric"`
	FabricName string    `json:"fabric_name"`
	Server     string    `json:"server,omitempty"`
	Commit     string    `json:"commit,omitempty"`
	CheckedAt  time.Time `json:"checked_at"`
	Duration   string    `json:"duration"`
	// Desired objects in Git, Live CRs in the cluster, Compared: the synced
	// or drifted ones whose live spec was compared (the others are on
	// their way and Argo CD has the say).
	Desired  int `json:"desired"`
	Live     int `json:"live"`
	Compared int `json:"compared"`
	// Drifted are the objects drifted now; NewlyDrifted and Resolved count
	// this check's transitions.
	Drifted      []Item `json:"drifted"`
	NewlyDrifted int    `json:"newly_drifted"`
	Resolved     int    `json:"resolved"`
	Orphans      []Item `json:"orphans"`
	Agents       Agents `json:"agents"`
	Error        string `json:"error,omitempty"`
}

// Last is the fabric's latest report, if any, whichever replica made it.
func (d *Detector) Last(ctx context.Context, fabric int64) (Report, bool, error) {
	return d.reports.Load(ctx, fabric)
}

// Check compares one fabric's cluster with Git now and records the result.
func (d *Detector) Check(ctx context.Context, fabric int64) (Report, error) {
	start := d.now()
	rep, err := d.check(ctx, fabric)
	rep.Fabric, rep.CheckedAt, rep.Duration = fabric, start.UTC(), d.now().Sub(start).Round(time.Millisecond).String()
	result := "ok"
	if err != nil {
		rep.Error, result = err.Error(), "error"
		if errors.Is(err, cluster.ErrNoCluster) {
			result = "no_cluster"
		}
	}
	d.m.checks.WithLabelValues(result).Inc()
	d.m.seconds.Observe(d.now().Sub(start).Seconds())
	if err == nil || !errors.Is(err, context.Canceled) {
		// Saved even when the check ran out of time (its context ended).
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if serr := d.reports.Save(sctx, rep); serr != nil {
			d.logger.Warn("drift report not saved", "fabric_id", fabric, "err", serr)
		}
		cancel()
	}
	return rep, err
}

func (d *Detector) check(ctx context.Context, fabric int64) (Report, error) {
	rep := Report{Fabric: fabric}
	f, commit, files, err := d.desired.Committed(ctx, fabric)
	if err != nil {
		return rep, fmt.Errorf("kube: fabric %d: %w", fabric, err)
	}
	rep.FabricName, rep.Commit = f.Name, commit
	dyn, server, err := d.clusters.For(f)
	rep.Server = server
	if err != nil {
		return rep, err
	}
	want, err := desiredObjects(files)
	if err != nil {
		return rep, err
	}
	live, err := liveObjects(ctx, dyn)
	if err != nil {
		return rep, err
	}
	recs, err := d.states.Load(ctx, fabric)
	if err != nil {
		return rep, fmt.Errorf("kube: states of fabric %s: %w", f.Name, err)
	}
	rep.Desired, rep.Live = len(want), len(live)
	changes := d.compare(&rep, f, want, live, recs, specSchemas(ctx, dyn))
	var switches []string
	for _, o := range want {
		if u := asObject(o); u.GetKind() == "Switch" {
			switches = append(switches, namespaceOf(u.GetNamespace())+"/"+u.GetName())
		}
	}
	if rep.Agents, err = agents(ctx, dyn, switches, d.now(), d.opts.HeartbeatMaxAge); err != nil {
		return rep, err
	}
	d.apply(ctx, &rep, changes)
	return rep, nil
}

// apply records the check's transitions; a record that moved meanwhile is
// left for the next check.
func (d *Detector) apply(ctx context.Context, rep *Report, changes []state.Change) {
	if len(changes) == 0 {
		return
	}
	var moved []state.Key
	for i, err := range d.states.Apply(ctx, changes...) {
		switch {
		case err == nil:
			moved = append(moved, changes[i].Key)
		case errors.Is(err, state.ErrConflict):
		default:
			d.logger.Warn("drift state not recorded", "fabric", rep.FabricName, "object", changes[i].Key.String(), "err", err)
		}
	}
	if len(moved) > 0 && d.show != nil {
		d.show(ctx, rep.Fabric, moved)
	}
}
