// Package proc is the process supervisor of the test rigs (redisenv,
// clusterenv, argocdenv): it starts a process in its own process group with
// its output in a log file, and stops it by PID — SIGTERM to the group, then
// SIGKILL after a grace period — waits for it, and reports how it ended.
package proc

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spec says what to start.
type Spec struct {
	// Name names the process in errors, e.g. "etcd".
	Name string
	// Path is the binary; Args its arguments (without the name).
	Path string
	Args []string
	// Env is the environment; nil means this process's.
	Env []string
	// Dir is the working directory; empty means this process's.
	Dir string
	// Log is the file stdout and stderr go to (created or truncated); empty
	// discards them.
	Log string
	// Pdeathsig has the kernel SIGKILL the process when the thread that
	// started it ends (e.g. the test process dies before Stop).
	Pdeathsig bool
}

// Proc is a started process, the leader of its own process group.
type Proc struct {
	// Name is Spec.Name.
	Name string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
	stop sync.Once
}

// Start starts the process described by s. The log file is closed once the
// process has exited.
func Start(s Spec) (*Proc, error) {
	cmd := exec.Command(s.Path, s.Args...)
	cmd.Env, cmd.Dir = s.Env, s.Dir
	// Its own process group, so Stop also ends whatever it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if s.Pdeathsig {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	var log *os.File
	if s.Log != "" {
		var err error
		if log, err = os.Create(s.Log); err != nil {
			return nil, fmt.Errorf("proc: log of %s: %w", s.Name, err)
		}
		cmd.Stdout, cmd.Stderr = log, log
	}
	if err := cmd.Start(); err != nil {
		if log != nil {
			_ = log.Close()
		}
		return nil, fmt.Errorf("proc: start %s: %w", s.Name, err)
	}
	p := &Proc{Name: s.Name, log: s.Log, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		if log != nil {
			_ = log.Close()
		}
		close(p.done)
	}()
	return p, nil
}

// PID is the process's ID, also its process group's.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited and been waited for.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited is nil while the process runs; once it has ended, an error that
// says how, with the last lines of its log.
func (p *Proc) Exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited (%v):\n%s", p.Name, p.cmd.ProcessState, p.Tail(40))
	default:
		return nil
	}
}

// Stop ends the process group: SIGTERM, then SIGKILL if the process has not
// exited after grace; it waits for the process, then SIGKILLs whatever is
// left in its group. Only the first Stop or Kill acts.
func (p *Proc) Stop(grace time.Duration) {
	p.stop.Do(func() {
		pgid := p.PID()
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // anything the process left in its group
	})
}

// Kill ends the process group with SIGKILL, as a crash would, and waits for
// the process. Only the first Stop or Kill acts.
func (p *Proc) Kill() {
	p.stop.Do(func() {
		_ = syscall.Kill(-p.PID(), syscall.SIGKILL)
		<-p.done
	})
}

// StopAll stops procs in reverse order (the last started first), each with
// grace.
func StopAll(procs []*Proc, grace time.Duration) {
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].Stop(grace)
	}
}

// LogFile is the process's log file; empty when its output is discarded.
func (p *Proc) LogFile() string { return p.log }

// Tail is the last n lines of the process's log so far.
func (p *Proc) Tail(n int) string {
	if p.log == "" {
		return ""
	}
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
