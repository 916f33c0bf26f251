package replicas

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// counts are what the comparer found; every one must be zero.
type counts struct {
	Missing     int // a VPC NetBox has, without its file at the tip (lost)
	Extra       int // a file at the tip whose VPC NetBox no longer has
	Behind      int // a file at the tip with another sequence number than NetBox's (lost edit or stale)
	Stale       int // a commit moving a VPC's sequence number down
	Resurrected int // a file added again after the commit that removed it for its deletion
	Removed     int // a file removed while its VPC existed
	Empty       int // a commit that changes nothing
	Duplicate   int // a commit repeating an earlier commit's changes
	Merges      int // merge commits (the writer pushes a linear branch)
	BadState    int // a state record not at a commit holding its VPC's current file
	examples    []string
}

func (c *counts) mismatches() int { return c.Missing + c.Extra + c.Behind }

func (c *counts) total() int {
	return c.mismatches() + c.Stale + c.Resurrected + c.Removed + c.Empty + c.Duplicate + c.Merges + c.BadState
}

func (c *counts) note(format string, args ...any) {
	if len(c.examples) < 25 {
		c.examples = append(c.examples, fmt.Sprintf(format, args...))
	}
}

// endState compares NetBox's VPCs with the files at the branch's tip.
func endState(nb nbClient, repo, branch string, fabrics map[int64]string) (counts, error) {
	var c counts
	want, err := nb.netboxVPCs(fabrics)
	if err != nil {
		return c, err
	}
	dirs := make([]string, 0, len(fabrics))
	for _, d := range fabrics {
		dirs = append(dirs, d)
	}
	got, err := treeSeqs(repo, branch, dirs)
	if err != nil {
		return c, err
	}
	for id, vpcs := range want {
		for name, seq := range vpcs {
			p := vpcPath(fabrics[id], name)
			g, ok := got[p]
			switch {
			case !ok:
				c.Missing++
				c.note("missing at the tip: %s (NetBox seq %d)", p, seq)
			case g != seq:
				c.Behind++
				c.note("%s: seq %d at the tip, %d in NetBox", p, g, seq)
			}
			delete(got, p)
		}
	}
	for p, g := range got {
		c.Extra++
		c.note("at the tip, not in NetBox: %s (seq %d)", p, g)
	}
	return c, nil
}

// walk judges every commit of the branch, oldest first.
func walk(c *counts, repo, branch string, objs map[string]*object) (int, error) {
	cs, err := history(repo, branch)
	if err != nil {
		return 0, err
	}
	var ids []string
	for _, cm := range cs {
		for _, id := range cm.changes {
			if id != zeroSHA {
				ids = append(ids, id)
			}
		}
	}
	contents, err := blobs(repo, ids)
	if err != nil {
		return 0, err
	}
	type track struct {
		present, removedForDelete bool
		seq                       int
	}
	files := map[string]*track{}
	seen := map[string]int{}  // a commit's changes → the first commit with them
	wrong := map[string]int{} // a path → the last commit that made it wrong
	for i, cm := range cs {
		if cm.parents > 1 {
			c.Merges++
			c.note("merge commit %s", short(cm.sha))
		}
		if len(cm.changes) == 0 {
			c.Empty++
			c.note("empty commit %s", short(cm.sha))
			continue
		}
		for _, p := range cm.order {
			o, ours := objs[p]
			if !ours {
				continue // not a VPC of the stream (the fabric's own files)
			}
			tr := files[p]
			if tr == nil {
				tr = &track{}
				files[p] = tr
			}
			id := cm.changes[p]
			if id == zeroSHA {
				tr.present = false
				if !o.deleted || cm.time < o.deleteStart.Unix() {
					c.Removed++
					wrong[p] = i
					c.note("commit %s removes %s while its VPC exists", short(cm.sha), p)
				} else {
					tr.removedForDelete = true
				}
				continue
			}
			seq := seqOf(contents[id])
			if tr.removedForDelete {
				c.Resurrected++
				wrong[p] = i
				c.note("commit %s brings back %s (seq %d), deleted in NetBox", short(cm.sha), p, seq)
				tr.removedForDelete = false
			}
			if tr.seq > 0 && seq < tr.seq {
				c.Stale++
				wrong[p] = i
				c.note("commit %s moves %s from seq %d back to %d", short(cm.sha), p, tr.seq, seq)
			}
			tr.present, tr.seq = true, seq
		}
		// The same changes as an earlier commit, and not because one of
		// its files went wrong in between (the fix of a stale, removed or
		// resurrected file repeats the changes it undoes).
		keys := append([]string(nil), cm.order...)
		sort.Strings(keys)
		var sig strings.Builder
		for _, p := range keys {
			sig.WriteString(p + "=" + cm.changes[p] + ";")
		}
		if prev, dup := seen[sig.String()]; !dup {
			seen[sig.String()] = i
		} else if !slices.ContainsFunc(keys, func(p string) bool { return wrong[p] > prev }) {
			c.Duplicate++
			c.note("commit %s repeats the changes of %s", short(cm.sha), short(cs[prev].sha))
		}
	}
	return len(cs), nil
}

// states checks every state record of the fabrics (read from Redis with
// internal/state, not through a sidecar): a VPC NetBox has is recorded in
// Git at a commit of the branch whose file holds NetBox's sequence number;
// a VPC NetBox deleted is not recorded as being in Git.
func states(ctx context.Context, c *counts, nb nbClient, redisURL, repo, branch string, fabrics map[int64]string) error {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(opts)
	defer func() { _ = rdb.Close() }()
	st, err := state.New(rdb, state.Options{}, prometheus.NewRegistry())
	if err != nil {
		return err
	}
	want, err := nb.netboxVPCs(fabrics)
	if err != nil {
		return err
	}
	for id, vpcs := range want {
		recs, err := st.Load(ctx, id)
		if err != nil {
			return err
		}
		for field, r := range recs {
			if r.Kind != "VPC" || r.Gone {
				continue
			}
			seq, live := vpcs[r.Name]
			inGit := r.State == state.Committed || r.State == state.Pending || r.State == state.Synced
			if !live {
				if inGit {
					c.BadState++
					c.note("fabric %d %s: deleted in NetBox, recorded %s at %s", id, field, r.State, short(r.Commit))
				}
				continue
			}
			if !inGit {
				c.BadState++
				c.note("fabric %d %s: recorded %s (%s)", id, field, r.State, r.Reason)
				continue
			}
			if _, err := git(repo, "merge-base", "--is-ancestor", r.Commit, branch); err != nil {
				c.BadState++
				c.note("fabric %d %s: recorded at %s, not on %s", id, field, short(r.Commit), branch)
				continue
			}
			content, err := git(repo, "show", r.Commit+":"+r.Path)
			if got := seqOf([]byte(content)); err != nil || got != seq {
				c.BadState++
				c.note("fabric %d %s: recorded at %s, whose %s has seq %d; NetBox %d", id, field, short(r.Commit), r.Path, got, seq)
			}
		}
		for name := range vpcs {
			if _, ok := recs[state.Field("VPC", "default", name)]; !ok {
				c.BadState++
				c.note("fabric %d VPC %s: no state record", id, name)
			}
		}
	}
	return nil
}

func short(sha string) string { return sha[:min(len(sha), 12)] }
