package replicas

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The comparer itself, on a branch made by hand with one of each anomaly:
// it must count each once and nothing else (git CLI only, no servers).
func TestComparerCountsEachAnomaly(t *testing.T) {
	work, bare := t.TempDir(), filepath.Join(t.TempDir(), "r.git")
	run := func(dir string, when int64, args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		date := fmt.Sprintf("%d +0000", when)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
			"GIT_COMMITTER_EMAIL=t@example.com", "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	t0 := time.Now().Add(-time.Hour).Unix()
	run(work, t0, "init", "-q", "-b", branch)
	step := int64(0)
	commit := func(files map[string]int, remove ...string) {
		t.Helper()
		step++
		for name, seq := range files {
			p := filepath.Join(work, vpcPath("f0", name))
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, fmt.Appendf(nil, "kind: VPC\nspec:\n  subnets:\n    default:\n      vlan: %d\n", seq), 0o644))
		}
		for _, name := range remove {
			run(work, t0, "rm", "-q", vpcPath("f0", name))
		}
		run(work, t0, "add", "-A")
		run(work, t0+step*10, "commit", "-q", "--allow-empty", "-m", fmt.Sprint("step ", step))
	}
	commit(map[string]int{"a": 1, "b": 1, "c": 1}) // 1
	commit(map[string]int{"a": 2})                 // 2
	commit(map[string]int{"a": 1})                 // 3: stale
	commit(nil)                                    // 4: empty
	commit(nil, "b")                               // 5: b removed, b lives
	commit(map[string]int{"b": 1})                 // 6: b back (healing, counted at 5)
	commit(nil, "c")                               // 7: c removed after its delete
	commit(map[string]int{"c": 1})                 // 8: c resurrected
	commit(map[string]int{"a": 3})                 // 9
	commit(map[string]int{"a": 2})                 // 10: stale
	commit(map[string]int{"a": 3})                 // 11: repeats 9 (and not stale)
	commit(nil, "c")                               // 12: c gone again (after its delete: fine)
	other := func(content string) {                // a file of the fabric's own, not a VPC
		require.NoError(t, os.WriteFile(filepath.Join(work, "f0", "fabric.yaml"), []byte(content), 0o644))
	}
	other("one")
	commit(nil) // 13
	other("two")
	commit(nil) // 14
	other("one")
	commit(nil) // 15: repeats 13
	run(work, t0, "clone", "-q", "--bare", work, bare)

	deleted := time.Unix(t0+65, 0) // between steps 6 and 7
	objs := map[string]*object{
		vpcPath("f0", "a"): {dir: "f0", name: "a"},
		vpcPath("f0", "b"): {dir: "f0", name: "b"},
		vpcPath("f0", "c"): {dir: "f0", name: "c", deleted: true, deleteStart: deleted, deleteDone: deleted},
	}
	var c counts
	n, err := walk(&c, bare, branch, objs)
	require.NoError(t, err)
	require.Equal(t, 15, n)
	for _, e := range c.examples {
		t.Log(e)
	}
	require.Equal(t, counts{Stale: 2, Empty: 1, Removed: 1, Resurrected: 1, Duplicate: 1}, counts{Stale: c.Stale, Empty: c.Empty,
		Removed: c.Removed, Resurrected: c.Resurrected, Duplicate: c.Duplicate, Merges: c.Merges, BadState: c.BadState,
		Missing: c.Missing, Extra: c.Extra, Behind: c.Behind})

	seqs, err := treeSeqs(bare, branch, []string{"f0"})
	require.NoError(t, err)
	require.Equal(t, map[string]int{vpcPath("f0", "a"): 3, vpcPath("f0", "b"): 1}, seqs)
}
