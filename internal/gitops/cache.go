package gitops

import (
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// clones is the cache of bare clones in the work directory: at most max,
// the least recently used clone not in use evicted first, and a clone
// unused for maxIdle removed (its fabric was deleted or moved). A clone in
// use is never removed. Each clone has a lock: one Apply or Files at a
// time.
type clones struct {
	dir     string
	max     int
	maxIdle time.Duration
	now     func() time.Time
	logger  *slog.Logger

	mu    sync.Mutex
	slots map[string]*slot // by clone directory
}

type slot struct {
	mu    sync.Mutex // held by the one user
	users int        // holding or waiting for mu
	last  time.Time
}

// newClones adopts the clones a previous process left in dir, as last
// used when they were last modified: only directories named as cloneName
// names them that hold a bare repository. Anything else in dir is not
// ours and is left alone (never removed).
func newClones(dir string, max int, maxIdle time.Duration, now func() time.Time, logger *slog.Logger) *clones {
	c := &clones{dir: dir, max: max, maxIdle: maxIdle, now: now, logger: logger, slots: map[string]*slot{}}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		d := filepath.Join(dir, e.Name())
		info, err := e.Info()
		if err != nil || !e.IsDir() || !isCloneName(e.Name()) || !isBareRepo(d) {
			logger.Debug("not a clone: left alone", "dir", d)
			continue
		}
		c.slots[d] = &slot{last: info.ModTime()}
	}
	c.mu.Lock()
	c.evictLocked()
	c.mu.Unlock()
	return c
}

// acquire waits for the clone directory d and returns its release.
func (c *clones) acquire(d string) func() {
	c.mu.Lock()
	s := c.slots[d]
	if s == nil {
		s = &slot{}
		c.slots[d] = s
	}
	s.users++
	s.last = c.now()
	c.mu.Unlock()
	s.mu.Lock()
	return func() {
		s.mu.Unlock()
		c.mu.Lock()
		s.users--
		s.last = c.now()
		c.evictLocked()
		c.mu.Unlock()
	}
}

// evictLocked removes idle clones and, over max, the least recently used
// ones not in use. A removed clone is made again on its next use.
func (c *clones) evictLocked() {
	idle := make([]string, 0, len(c.slots))
	for d, s := range c.slots {
		if s.users == 0 {
			idle = append(idle, d)
		}
	}
	sort.Slice(idle, func(i, j int) bool { return c.slots[idle[i]].last.Before(c.slots[idle[j]].last) })
	now := c.now()
	for _, d := range idle {
		s := c.slots[d]
		if len(c.slots) <= c.max && now.Sub(s.last) < c.maxIdle {
			break
		}
		if err := os.RemoveAll(d); err != nil {
			c.logger.Warn("clone not removed", "dir", d, "err", err)
			continue
		}
		delete(c.slots, d)
		c.logger.Debug("clone removed", "dir", d, "unused_for", now.Sub(s.last).Round(time.Second))
	}
}

// len is how many clones the cache holds.
func (c *clones) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.slots)
}

// isCloneName: 16 lowercase hex digits, as cloneName writes.
func isCloneName(name string) bool {
	return len(name) == 16 && strings.Trim(name, "0123456789abcdef") == ""
}

// isBareRepo: dir holds HEAD (a file), objects and refs (directories),
// not through symbolic links.
func isBareRepo(dir string) bool {
	for name, wantDir := range map[string]bool{"HEAD": false, "objects": true, "refs": true} {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() != wantDir || (!wantDir && !fi.Mode().IsRegular()) {
			return false
		}
	}
	return true
}
