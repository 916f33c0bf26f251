package argocdenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/proc"
)

// start runs the named Argo CD binary of paths under the supervisor, its
// output in Dir/<name>.log.
func (e *Env) start(paths Paths, name string, args, env []string) error {
	// Its own process group (proc), so Stop also ends the git and helper
	// processes it runs; killed with the test process if that dies first.
	p, err := proc.Start(proc.Spec{Name: name, Path: filepath.Join(paths.Bin, name), Args: args,
		Env: env, Dir: e.Dir, Log: filepath.Join(e.Dir, name+".log"), Pdeathsig: true})
	if err != nil {
		return fmt.Errorf("argocdenv: %w", err)
	}
	e.procs = append(e.procs, p)
	return nil
}

// Stop ends the three processes (SIGTERM to each one's process group, then
// SIGKILL after 5 s) in reverse order and waits for them.
func (e *Env) Stop() {
	proc.StopAll(e.procs, 5*time.Second)
	e.procs = nil
}

// PIDs are the processes' IDs by name.
func (e *Env) PIDs() map[string]int {
	m := map[string]int{}
	for _, p := range e.procs {
		m[p.Name] = p.PID()
	}
	return m
}

// RSS is each process's resident memory in bytes (VmRSS), by name.
func (e *Env) RSS() map[string]int64 {
	m := map[string]int64{}
	for _, p := range e.procs {
		if n := p.RSS(); n > 0 {
			m[p.Name] = n
		}
	}
	return m
}

// Log is the named process's log so far.
func (e *Env) Log(name string) string {
	b, _ := os.ReadFile(filepath.Join(e.Dir, name+".log"))
	return string(b)
}

// withLogs adds the tail of each log to err.
func (e *Env) withLogs(err error) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%v", err)
	for _, p := range e.procs {
		fmt.Fprintf(&b, "\n--- %s (last lines of %s):\n%s", p.Name, p.LogFile(), p.Tail(20))
	}
	return errors.New(b.String())
}
