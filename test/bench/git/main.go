// Command git benchmarks the Git write path (make bench-git): rendering and
// committing a 10,000-CR fabric into an empty repository over smart HTTP,
// against `git add -A && git commit && git push` of the same files by the
// git CLI measured in the same run; then the no-op reconcile of the same
// objects; and peak RSS. It prints ratios, and asserts nothing about time.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/gitaccess"
	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/reconcile"
	"github.com/githedgehog/hnp-sidecar/internal/render"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/fabric"
	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
)

func main() {
	target := flag.Int("objects", 10000, "CRs in the fabric (approximate)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the sidecar's reconciles to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench-git:", err)
			os.Exit(1)
		}
		stopProfile = func() { pprof.StopCPUProfile(); _ = f.Close() }
	}
	if err := run(*target); err != nil {
		fmt.Fprintln(os.Stderr, "bench-git:", err)
		os.Exit(1)
	}
}

// stopProfile ends the CPU profile, if any, before the baseline runs.
var stopProfile = func() {}

func run(target int) error {
	tmp, err := os.MkdirTemp("", "hnp-bench-git-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	srv, err := gitenv.Serve(filepath.Join(tmp, "remote"), "hnp", "bench-password", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer srv.Close()

	objs := objectsFor(target)
	f := render.Fabric{ID: 1, Name: "bench"}
	start := time.Now()
	changes, err := renderAll(f, objs)
	if err != nil {
		return err
	}
	renderTime := time.Since(start)

	ours, err := srv.Create("ours", "main")
	if err != nil {
		return err
	}
	access, err := gitaccess.New(gitaccess.Options{DefaultURL: ours, AllowHTTP: true,
		Default: gitaccess.Credentials{Username: srv.User, Token: srv.Password}})
	if err != nil {
		return err
	}
	w, err := gitops.New(gitops.Options{WorkDir: filepath.Join(tmp, "work"), Access: access},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	batch := gitops.Batch{URL: ours, Branch: "main", Message: "Reconcile fabric bench", Changes: changes, Replace: []string{"bench/managed"}}
	start = time.Now()
	res, err := w.Apply(context.Background(), batch)
	if err != nil || !res.Committed {
		return fmt.Errorf("full reconcile: committed=%v: %w", res.Committed, err)
	}
	full := time.Since(start) + renderTime
	start = time.Now()
	again, err := renderAll(f, objs)
	if err != nil {
		return err
	}
	batch.Changes = again
	res, err = w.Apply(context.Background(), batch)
	if err != nil || res.Committed {
		return fmt.Errorf("no-op reconcile: committed=%v: %w", res.Committed, err)
	}
	noop := time.Since(start)
	var rs syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &rs)
	ourRSS := rs.Maxrss / 1024
	stopProfile()

	cli, err := gitCLI(srv, tmp, changes)
	if err != nil {
		return err
	}
	if err := verify(srv, tmp, changes); err != nil {
		return err
	}
	fmt.Printf("bench-git: %d CRs (%d files with the manifest), GOMAXPROCS=%d, remote: git http-backend over 127.0.0.1\n",
		len(objs), len(changes), runtime.GOMAXPROCS(0))
	fmt.Printf("%-44s %10s\n", "step", "time")
	fmt.Printf("%-44s %10s   (write %s, add %s, commit %s, push %s)\n", "git CLI: write files, add -A, commit, push", cli.total().Round(time.Millisecond),
		cli.write.Round(time.Millisecond), cli.add.Round(time.Millisecond), cli.commit.Round(time.Millisecond), cli.push.Round(time.Millisecond))
	fmt.Printf("%-44s %10s   (render %s)\n", "hnp-sidecar: render + commit + push", full.Round(time.Millisecond), renderTime.Round(time.Millisecond))
	fmt.Printf("%-44s %10s\n", "hnp-sidecar: no-op reconcile (0 commits)", noop.Round(time.Millisecond))
	fmt.Printf("ratio sidecar/git CLI: %.2f   (goal <= 1.0, and <= 2 s)\n", full.Seconds()/cli.total().Seconds())
	fmt.Printf("peak RSS of this process after both reconciles: %d MB (goal <= 150 MB)\n", ourRSS)
	fmt.Println("git fsck --strict of the remote and of the sidecar's clone: ok; a fresh git clone has exactly the rendered files")
	return nil
}

func objectsFor(target int) []render.Object {
	n := 4
	for len(fabric.Generate(fabric.ForSwitches(n))) < target {
		n += max(1, n/4)
	}
	var out []render.Object
	// Sync-wave order: cutting the tail drops attachments and peerings,
	// never something another object refers to.
	for i, o := range fabric.Generate(fabric.ForSwitches(n))[:target] {
		out = append(out, render.Object{Kind: o.Kind, ID: int64(i + 1), Name: o.Name, Namespace: "default", Spec: o.Spec})
	}
	return out
}

// renderAll is the reconciler's own planning step.
func renderAll(f render.Fabric, objs []render.Object) ([]gitops.Change, error) {
	changes, invalid, err := reconcile.Plan(f, "bench", objs)
	if err == nil && len(invalid) > 0 {
		err = fmt.Errorf("%d generated objects are invalid", len(invalid))
	}
	return changes, err
}

// cliTimes are the baseline's steps.
type cliTimes struct {
	write, add, commit, push time.Duration
}

func (t cliTimes) total() time.Duration { return t.write + t.add + t.commit + t.push }

// gitCLI times the baseline: the same files written into a clone, then
// git add -A, commit and push. Automatic gc is off: commit would start it
// in the background over the 10,000 loose objects, racing the push for
// the CPUs and outliving the bench.
func gitCLI(srv *gitenv.Server, tmp string, changes []gitops.Change) (cliTimes, error) {
	var t cliTimes
	url, err := srv.Create("cli", "main")
	if err != nil {
		return t, err
	}
	dir := filepath.Join(tmp, "cli")
	git := func(args ...string) error {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@b", "GIT_COMMITTER_NAME=b", "GIT_COMMITTER_EMAIL=b@b")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("git %v: %w\n%s", args, err, out)
		}
		return nil
	}
	if out, err := exec.Command("git", "clone", "-q", srv.AuthURL(url), dir).CombinedOutput(); err != nil {
		return t, fmt.Errorf("git clone: %w\n%s", err, out)
	}
	if err := git("config", "gc.auto", "0"); err != nil {
		return t, err
	}
	start := time.Now()
	for _, c := range changes {
		p := filepath.Join(dir, c.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return t, err
		}
		if err := os.WriteFile(p, c.Content, 0o644); err != nil {
			return t, err
		}
	}
	t.write = time.Since(start)
	for _, step := range []struct {
		d    *time.Duration
		args []string
	}{{&t.add, []string{"add", "-A"}}, {&t.commit, []string{"commit", "-q", "-m", "bench"}}, {&t.push, []string{"push", "-q", "origin", "HEAD:main"}}} {
		start := time.Now()
		if err := git(step.args...); err != nil {
			return t, err
		}
		*step.d = time.Since(start)
	}
	return t, nil
}

// verify checks what the sidecar pushed: git fsck of the remote and of the
// sidecar's own clone, and a fresh clone holding exactly the rendered files.
func verify(srv *gitenv.Server, tmp string, changes []gitops.Change) error {
	clones, err := filepath.Glob(filepath.Join(tmp, "work", "*"))
	if err != nil || len(clones) != 1 {
		return fmt.Errorf("verify: the sidecar's clone: %v %v", clones, err)
	}
	for _, dir := range []string{srv.Dir("ours"), clones[0]} {
		if out, err := exec.Command("git", "-C", dir, "fsck", "--strict", "--no-dangling").CombinedOutput(); err != nil {
			return fmt.Errorf("verify: git fsck %s: %w\n%s", dir, err, out)
		}
	}
	co := filepath.Join(tmp, "verify")
	if out, err := exec.Command("git", "clone", "-q", srv.AuthURL(srv.URL+"/ours.git"), co).CombinedOutput(); err != nil {
		return fmt.Errorf("verify: git clone: %w\n%s", err, out)
	}
	want := map[string][]byte{}
	for _, c := range changes {
		want[c.Path] = c.Content
	}
	n := 0
	err = filepath.WalkDir(co, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if err == nil && d.Name() == ".git" {
				return filepath.SkipDir
			}
			return err
		}
		rel, err := filepath.Rel(co, p)
		if err != nil {
			return err
		}
		got, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if w, ok := want[filepath.ToSlash(rel)]; !ok || !bytes.Equal(got, w) {
			return fmt.Errorf("verify: %s differs from the rendered file", rel)
		}
		n++
		return nil
	})
	if err == nil && n != len(want) {
		err = fmt.Errorf("verify: the clone has %d files, %d were rendered", n, len(want))
	}
	return err
}
