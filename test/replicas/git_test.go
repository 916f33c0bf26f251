package replicas

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// The remote is read with the git CLI on the bare repository: nothing of
// the sidecar's Git code is involved.

const zeroSHA = "0000000000000000000000000000000000000000"

var vlanLine = regexp.MustCompile(`(?m)^\s*vlan: (\d+)\s*$`)

// seqOf is the sequence number (the VLAN) a rendered VPC file holds; -1 if none.
func seqOf(content []byte) int {
	m := vlanLine.FindSubmatch(content)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func git(dir string, args ...string) (string, error) {
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, ee.Stderr)
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// blobs reads the contents of objects by id (git cat-file --batch).
func blobs(dir string, ids []string) (map[string][]byte, error) {
	out := map[string][]byte{}
	if len(ids) == 0 {
		return out, nil
	}
	cmd := exec.Command("git", "-C", dir, "cat-file", "--batch")
	cmd.Stdin = strings.NewReader(strings.Join(ids, "\n") + "\n")
	raw, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git cat-file --batch: %w", err)
	}
	r := bufio.NewReader(bytes.NewReader(raw))
	for {
		head, err := r.ReadString('\n')
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		f := strings.Fields(head)
		if len(f) != 3 {
			return nil, fmt.Errorf("git cat-file: %q", head)
		}
		size, _ := strconv.Atoi(f[2])
		b := make([]byte, size+1) // and the newline
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		out[f[0]] = b[:size]
	}
}

// treeSeqs reads the VPC files at rev under each fabric directory:
// path → sequence number.
func treeSeqs(dir, rev string, dirs []string) (map[string]int, error) {
	args := []string{"ls-tree", "-r", rev, "--"}
	for _, d := range dirs {
		args = append(args, d+"/managed/vpcs/")
	}
	out, err := git(dir, args...)
	if err != nil {
		return nil, err
	}
	paths := map[string]string{}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		meta, path, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		f := strings.Fields(meta)
		paths[path] = f[2]
		ids = append(ids, f[2])
	}
	contents, err := blobs(dir, ids)
	if err != nil {
		return nil, err
	}
	seqs := make(map[string]int, len(paths))
	for p, id := range paths {
		seqs[p] = seqOf(contents[id])
	}
	return seqs, nil
}

// commit is one commit of the branch and the files it changed (path → new
// blob id, zeroSHA when removed), against its first parent.
type commit struct {
	sha     string
	parents int
	time    int64 // committer time, seconds
	changes map[string]string
	order   []string
}

// history lists the branch's commits, oldest first, along the first parent.
func history(dir, branch string) ([]commit, error) {
	out, err := git(dir, "log", "--first-parent", "--reverse", "-m", "--raw", "--no-abbrev", "--no-renames",
		"--format=@@ %H %ct %P", branch)
	if err != nil {
		return nil, err
	}
	var cs []commit
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "@@ "):
			f := strings.Fields(line)
			t, _ := strconv.ParseInt(f[2], 10, 64)
			cs = append(cs, commit{sha: f[1], time: t, parents: len(f) - 3, changes: map[string]string{}})
		case strings.HasPrefix(line, ":") && len(cs) > 0:
			meta, path, ok := strings.Cut(line, "\t")
			f := strings.Fields(meta)
			if !ok || len(f) < 5 {
				return nil, fmt.Errorf("git log --raw: %q", line)
			}
			c := &cs[len(cs)-1]
			if _, seen := c.changes[path]; !seen { // -m on a merge lists it once per parent; the first parent's
				c.changes[path] = f[3]
				c.order = append(c.order, path)
			}
		}
	}
	return cs, nil
}
