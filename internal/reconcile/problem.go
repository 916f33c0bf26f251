package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/problems"
	"github.com/githedgehog/hnp-sidecar/internal/render"
)

// Problems remembers what is wrong with fabrics and which write-backs
// NetBox refused, across replicas, so each is told to the user once.
type Problems interface {
	Set(ctx context.Context, p problems.Problem) (first bool, err error)
	Get(ctx context.Context, fabric int64) (problems.Problem, bool, error)
	List(ctx context.Context) ([]problems.Problem, error)
	Clear(ctx context.Context, fabric int64) (had bool, err error)
	Refused(ctx context.Context, fabric int64, target string, r problems.Refusal) (first bool, err error)
	Refusals(ctx context.Context, fabric int64, targets []string) (map[string]problems.Refusal, error)
	Accepted(ctx context.Context, fabric int64, targets ...string) error
	Forget(ctx context.Context, fabric int64) error
}

// WithProblems records fabrics' configuration problems and refused
// write-backs in p (health shows them; the user is told once).
func WithProblems(p Problems) Option { return func(r *Reconciler) { r.problems = p } }

// reasonOf is the text the user sees for a configuration problem.
func reasonOf(err error) string {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return ce.Reason
	}
	return err.Error()
}

// recordProblem keeps reason as the fabric's problem (health) and says
// whether it is new, so the user is told once; a store that does not
// answer counts as new (told again rather than never).
func (r *Reconciler) recordProblem(ctx context.Context, f netbox.Fabric, reason string) (first bool) {
	if r.problems == nil {
		return true
	}
	first, err := r.problems.Set(ctx, problems.Problem{Fabric: f.ID, Name: f.Name, Reason: reason})
	if err != nil {
		r.logger.Warn("fabric problem not recorded", "fabric", f.Name, "err", err)
		return true
	}
	return first
}

// problemIs says whether fabric's recorded problem starts with prefix
// (the kind of problem: an overlap, an Argo CD one); known is false
// without a store or when it did not answer.
func (r *Reconciler) problemIs(ctx context.Context, fabric int64, prefix string) (is, known bool) {
	if r.problems == nil {
		return false, false
	}
	p, ok, err := r.problems.Get(ctx, fabric)
	if err != nil {
		return false, false
	}
	return ok && strings.HasPrefix(p.Reason, prefix), true
}

// configProblem shows why a fabric cannot be synced where its owner looks:
// each object (objs, when they could be read) in draft with the reason as
// its sync_error, the fabric's sync_status "error" and — once per reason —
// a journal entry on the fabric, and the fabric in health. Nothing is
// written to Git. It returns err, for the job and the queue.
func (r *Reconciler) configProblem(ctx context.Context, f netbox.Fabric, objs []render.Object, items []listed, err error) error {
	if ferr := stillWriter(ctx); ferr != nil {
		return fmt.Errorf("reconcile: fabric %s: not shown: %w", f.Name, ferr) // the new holder shows its own view
	}
	r.dropSnapshot(ctx, f.ID) // its next run is a full one, which shows or resolves the problem
	reason := reasonOf(err)
	r.logger.Error("fabric cannot be synced as configured; nothing is written to Git until it is fixed in NetBox",
		"fabric", f.Name, "fabric_id", f.ID, "reason", reason)
	first := r.recordProblem(ctx, f, reason)
	var t *tracking
	if objs != nil {
		invalid := make(map[render.ObjectRef][]error, len(objs))
		for _, o := range objs {
			invalid[o.Ref()] = []error{errors.New(reason)}
		}
		t = r.track(ctx, render.Fabric{ID: f.ID, Name: f.Name}, strings.Trim(f.GitopsDirectory, "/"), objs, invalid, nil)
	}
	var journal []netbox.JournalEntry
	if first {
		journal = append(journal, netbox.JournalEntry{Kind: kind.Fabric, ObjectID: f.ID, Level: netbox.JournalDanger,
			Comments: fmt.Sprintf("hnp-sidecar: nothing of this fabric reaches Git: %s. Fix it in NetBox; the sidecar tries "+
				"again on the fabric's next change, at its periodic reconcile and on `hnp-sidecar resync`.", reason)})
	}
	o := outcome{items: items, t: t, pushErr: err, problem: reason, journal: journal}
	if first && r.problems != nil {
		// Not told after all (the journal entry was not written): tell again.
		o.undo = func(ctx context.Context) { _, _ = r.problems.Clear(ctx, f.ID) }
	}
	r.writeBack(ctx, f, o)
	return err
}

// FabricGone forgets what was recorded about a fabric NetBox says is
// deleted: its problem (health) and its refused write-backs.
func (r *Reconciler) FabricGone(ctx context.Context, fabric int64) {
	if r.snaps != nil {
		if err := r.snaps.Forget(ctx, fabric); err != nil {
			r.logger.Warn("deleted fabric's snapshot not removed", "fabric_id", fabric, "err", err)
		}
	}
	if f, ok := r.states.(interface {
		ForgetFabric(ctx context.Context, fabric int64) error
	}); ok {
		if err := f.ForgetFabric(ctx, fabric); err != nil {
			r.logger.Warn("deleted fabric still listed with the states", "fabric_id", fabric, "err", err)
		}
	}
	if f, ok := r.deployer.(interface {
		Forget(ctx context.Context, fabric int64) error
	}); ok {
		if err := f.Forget(ctx, fabric); err != nil {
			r.logger.Warn("deleted fabric's Argo CD target and health not forgotten", "fabric_id", fabric, "err", err)
		}
	}
	if r.problems == nil {
		return
	}
	if err := r.problems.Forget(ctx, fabric); err != nil {
		r.logger.Warn("deleted fabric's problems not forgotten", "fabric_id", fabric, "err", err)
	}
}

// resolved ends a fabric's configuration problem once a run reached Git,
// and returns the journal entry that tells the user (none when there was
// no problem or the push failed).
func (r *Reconciler) resolved(ctx context.Context, f netbox.Fabric, out gitops.Result, pushErr error) []netbox.JournalEntry {
	if r.problems == nil || pushErr != nil || r.argoProblemStays(ctx, f.ID) {
		return nil // an Argo CD problem ends when the Application is accepted (argoproblem.go)
	}
	had, err := r.problems.Clear(ctx, f.ID)
	if err != nil {
		r.logger.Warn("fabric problem not cleared", "fabric", f.Name, "err", err)
	}
	if !had {
		return nil
	}
	r.logger.Info("fabric syncs again; its configuration problem is resolved", "fabric", f.Name, "commit", out.Commit)
	return []netbox.JournalEntry{{Kind: kind.Fabric, ObjectID: f.ID, Level: netbox.JournalSuccess,
		Comments: fmt.Sprintf("hnp-sidecar: the fabric syncs again (in Git at commit %s); the earlier problem is resolved.", out.Commit)}}
}
