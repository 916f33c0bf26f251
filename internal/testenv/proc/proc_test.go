package proc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sh starts a shell script under the supervisor, stopped when t ends.
func sh(t *testing.T, script string) *Proc {
	t.Helper()
	p, err := Start(Spec{Name: "sh", Path: "/bin/sh", Args: []string{"-c", script},
		Log: filepath.Join(t.TempDir(), "sh.log"), Pdeathsig: true})
	require.NoError(t, err)
	t.Cleanup(func() { p.Stop(time.Second) })
	return p
}

// alive says whether pid runs: it exists and is not a zombie (whose
// reaping is up to whoever adopted it).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// child reads the PID a script wrote to its log's first line.
func child(t *testing.T, p *Proc) int {
	t.Helper()
	var pid int
	require.Eventually(t, func() bool {
		line, _, _ := strings.Cut(p.Tail(100), "\n")
		pid, _ = strconv.Atoi(strings.TrimSpace(line))
		return pid > 0
	}, 5*time.Second, 10*time.Millisecond)
	return pid
}

func TestStopTermThenKillsGroup(t *testing.T) {
	// The shell waits on a child in its group; both go on SIGTERM.
	p := sh(t, "sleep 60 & echo $!; wait")
	kid := child(t, p)
	require.NoError(t, p.Exited())
	begin := time.Now()
	p.Stop(10 * time.Second)
	require.Less(t, time.Since(begin), 5*time.Second, "SIGTERM was enough")
	require.Error(t, p.Exited())
	require.Eventually(t, func() bool { return !alive(kid) }, 5*time.Second, 10*time.Millisecond)
	p.Stop(10 * time.Second) // again: nothing to do
}

func TestStopKillsAfterGrace(t *testing.T) {
	// Ignores SIGTERM, and so does its child: SIGKILL after the grace.
	p := sh(t, `trap "" TERM; sh -c 'trap "" TERM; sleep 60' & echo $!; while :; do sleep 1; done`)
	kid := child(t, p)
	begin := time.Now()
	p.Stop(300 * time.Millisecond)
	took := time.Since(begin)
	require.GreaterOrEqual(t, took, 300*time.Millisecond)
	require.Less(t, took, 5*time.Second)
	require.Contains(t, p.Exited().Error(), "signal: killed")
	require.Eventually(t, func() bool { return !alive(kid) }, 5*time.Second, 10*time.Millisecond)
}

func TestKill(t *testing.T) {
	p := sh(t, "sleep 60")
	p.Kill()
	require.Contains(t, p.Exited().Error(), "signal: killed")
	p.Stop(time.Second) // after Kill: nothing to do
}

func TestStopAllReverseOrder(t *testing.T) {
	dir := t.TempDir()
	order := filepath.Join(dir, "order")
	var procs []*Proc
	for _, name := range []string{"first", "second"} {
		procs = append(procs, sh(t, `trap 'echo `+name+` >> `+order+`; exit 0' TERM; echo ready; while :; do sleep 0.05; done`))
	}
	for _, p := range procs {
		require.Eventually(t, func() bool { return p.Tail(1) == "ready" }, 5*time.Second, 10*time.Millisecond)
	}
	StopAll(procs, 5*time.Second)
	b, err := os.ReadFile(order)
	require.NoError(t, err)
	require.Equal(t, "second\nfirst\n", string(b))
}

func TestStartErrors(t *testing.T) {
	_, err := Start(Spec{Name: "nothing", Path: filepath.Join(t.TempDir(), "nothing")})
	require.ErrorContains(t, err, "proc: start nothing")
	_, err = Start(Spec{Name: "sh", Path: "/bin/sh", Log: filepath.Join(t.TempDir(), "no", "dir", "log")})
	require.ErrorContains(t, err, "proc: log of sh")
}

func TestWaitHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	p := sh(t, "sleep 60")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, WaitHTTP(ctx, nil, srv.URL, p))
	require.Positive(t, p.RSS())

	// Fails early, with the log, when the process exits.
	ports, err := FreePorts(2)
	require.NoError(t, err)
	require.NotEqual(t, ports[0], ports[1])
	gone := sh(t, "echo boom; exit 3")
	err = WaitHTTP(ctx, nil, "http://127.0.0.1:"+strconv.Itoa(ports[0]), gone)
	require.ErrorContains(t, err, "sh exited (exit status 3)")
	require.ErrorContains(t, err, "boom")
	require.Zero(t, gone.RSS())

	// And when ctx ends.
	short, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	err = WaitHTTP(short, nil, "http://127.0.0.1:"+strconv.Itoa(ports[1]), p)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "sh not ready at")
}
