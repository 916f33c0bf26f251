package gitops

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/breaker"
	"github.com/githedgehog/hnp-sidecar/internal/gitaccess"
	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
)

// recorder is an HTTP server on 127.0.0.1 that records each request and
// answers with answer (or a redirect, when set).
type recorder struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string // "GET /path Authorization: ..."
}

func newRecorder(t *testing.T, answer http.HandlerFunc) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.requests = append(r.requests, req.Method+" "+req.URL.Path+" Authorization: "+req.Header.Get("Authorization"))
		r.mu.Unlock()
		answer(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.requests...)
}

func batch(url string) Batch {
	return Batch{URL: url, Branch: "main", Message: "m", Changes: []Change{{Path: "a", Content: []byte("a")}}}
}

func policyWriter(t *testing.T, o gitaccess.Options, guard Guard) *Writer {
	t.Helper()
	p, err := gitaccess.New(o)
	require.NoError(t, err)
	w, err := New(Options{WorkDir: t.TempDir(), Access: p, Guard: guard}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	return w
}

// A fabric whose URL names a host that is not allowed: the host receives
// no request at all (before: the first request carried Authorization:
// Basic <user>:<HNP_GIT_TOKEN>), no breaker sees it, no clone is made.
func TestRefusedHostReceivesNothing(t *testing.T) {
	srv := gitenv.Start(t)
	evil := newRecorder(t, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusNotFound) })
	g := &recordingGuard{}
	w := policyWriter(t, gitaccess.Options{DefaultURL: srv.URL + "/fleet.git", AllowHTTP: true,
		Default: gitaccess.Credentials{Username: "bot", Token: "the-token"}}, g)
	for _, u := range []string{evil.URL + "/x.git", strings.Replace(evil.URL, "127.0.0.1", "localhost", 1) + "/x.git"} {
		_, err := w.Apply(t.Context(), batch(u))
		require.ErrorIs(t, err, gitaccess.ErrRefused, u)
		require.ErrorContains(t, err, "HNP_GIT_ALLOWED_URLS")
		require.NotContains(t, err.Error(), "the-token")
		_, _, err = w.Files(t.Context(), u, "main", "f")
		require.ErrorIs(t, err, gitaccess.ErrRefused, u)
	}
	require.Empty(t, evil.got(), "the refused host received requests")
	require.Empty(t, g.remotes, "a refused URL reached the breaker")
	require.Empty(t, cloneDirs(t, w), "a refused URL got a clone")
}

// file://, local paths and git:// are refused before any file or network
// access: the local repository is unchanged (before: the sidecar pushed a
// commit into it).
func TestLocalRepositoriesAreRefused(t *testing.T) {
	bare := filepath.Join(t.TempDir(), "local.git")
	gitenv.Git(t, "", "init", "-q", "--bare", "-b", "main", bare)
	seed := filepath.Join(t.TempDir(), "seed")
	gitenv.Git(t, "", "clone", "-q", bare, seed)
	gitenv.Git(t, seed, "commit", "-q", "--allow-empty", "-m", "seed")
	gitenv.Git(t, seed, "push", "-q", "origin", "main")
	refs := func() string { return gitenv.Git(t, bare, "for-each-ref", "--format=%(refname) %(objectname)") }
	before := refs()
	w := policyWriter(t, gitaccess.Options{Allowed: []string{"github.com", "localhost"}, AllowHTTP: true}, nil)
	for _, u := range []string{"file://" + bare, "FILE://" + bare, bare, "file://localhost" + bare, "./local.git",
		"git://localhost/" + bare, "ext::sh -c touch% /tmp/pwned"} {
		_, err := w.Apply(t.Context(), batch(u))
		require.ErrorIs(t, err, gitaccess.ErrRefused, u)
	}
	require.Equal(t, before, refs())
	require.Empty(t, cloneDirs(t, w))
}

// An allowed host that redirects to another host: the other host gets no
// Authorization (go-git strips credentials when a redirect leaves the
// origin), on another name and on another port of the same address.
func TestRedirectCarriesNoCredentials(t *testing.T) {
	other := newRecorder(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
		http.Error(w, "who are you", http.StatusUnauthorized)
	})
	for name, to := range map[string]string{"another name": strings.Replace(other.URL, "127.0.0.1", "localhost", 1), "another port": other.URL} {
		t.Run(name, func(t *testing.T) {
			allowed := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, to+r.URL.RequestURI(), http.StatusFound)
			})
			w := policyWriter(t, gitaccess.Options{DefaultURL: allowed.URL + "/r.git", AllowHTTP: true,
				Default: gitaccess.Credentials{Username: "bot", Token: "the-token"}}, nil)
			_, err := w.Apply(t.Context(), batch(allowed.URL+"/r.git"))
			require.Error(t, err)
			require.Equal(t, []string{"GET /r.git/info/refs Authorization: Basic Ym90OnRoZS10b2tlbg=="}, allowed.got(),
				"the allowed host gets its credentials")
			for _, r := range other.got() {
				require.True(t, strings.HasSuffix(r, "Authorization: "), "the other host got credentials: %s", r)
			}
			require.NotEmpty(t, other.got())
		})
	}
}

// A repository that does not exist is the fabric's data, not an outage:
// the breaker stays closed and other fabrics on the same host keep
// pushing (before: five 404s opened the breaker for the whole host). A
// server that fails (500) still opens it.
func TestMissingRepositoryDoesNotOpenTheBreaker(t *testing.T) {
	srv := gitenv.Start(t)
	good := srv.NewRepo(t, "good", "main")
	set, err := breaker.NewSet(nil, prometheus.NewRegistry(), breaker.DefaultOptions())
	require.NoError(t, err)
	w := policyWriter(t, gitaccess.Options{DefaultURL: good, AllowHTTP: true,
		Default: gitaccess.Credentials{Username: srv.User, Token: srv.Password}}, set.Guard(breaker.Git))
	ctx := context.Background()
	for range 10 {
		_, err := w.Apply(ctx, batch(srv.URL+"/missing.git"))
		require.ErrorIs(t, err, ErrNotFound)
		var n interface{ BreakerNeutral() bool }
		require.ErrorAs(t, err, &n)
		_, err = w.Apply(ctx, Batch{URL: good, Branch: "bad..branch", Message: "m"})
		require.ErrorIs(t, err, ErrBadBranch)
	}
	require.Equal(t, breaker.Closed, set.Get(breaker.Git, srv.URL).State())
	res, err := w.Apply(ctx, batch(good))
	require.NoError(t, err)
	require.True(t, res.Committed)

	down := newRecorder(t, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) })
	w5 := policyWriter(t, gitaccess.Options{DefaultURL: down.URL + "/r.git", AllowHTTP: true}, set.Guard(breaker.Git))
	for range 5 {
		_, err := w5.Apply(ctx, batch(down.URL+"/r.git"))
		require.Error(t, err)
	}
	_, err = w5.Apply(ctx, batch(down.URL+"/r.git"))
	require.ErrorIs(t, err, breaker.ErrOpen, "an outage still opens the breaker")
}

// The breakers' remote label only ever holds allowed remotes.
func TestBreakerLabelsOnlyAllowedRemotes(t *testing.T) {
	srv := gitenv.Start(t)
	good := srv.NewRepo(t, "good", "main")
	reg := prometheus.NewRegistry()
	set, err := breaker.NewSet(nil, reg, breaker.DefaultOptions())
	require.NoError(t, err)
	w := policyWriter(t, gitaccess.Options{DefaultURL: good, AllowHTTP: true,
		Default: gitaccess.Credentials{Username: srv.User, Token: srv.Password}}, set.Guard(breaker.Git))
	for i := range 50 {
		_, _ = w.Apply(t.Context(), batch("https://attacker-"+strings.Repeat("x", i%7)+".example/r.git"))
		_, _ = w.Apply(t.Context(), batch("http://127.0.0.1:"+string(rune('1'+i%9))+"/r.git"))
	}
	_, err = w.Apply(t.Context(), batch(good))
	require.NoError(t, err)
	mfs, err := reg.Gather()
	require.NoError(t, err)
	u, _ := url.Parse(srv.URL)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "remote" {
					require.Equal(t, u.Host, l.GetValue(), mf.GetName())
				}
			}
		}
	}
}

// The author is NetBox's user name, free text: it cannot forge or break
// the commit header.
func TestAuthorIsSanitized(t *testing.T) {
	srv := gitenv.Start(t)
	url := srv.NewRepo(t, "author", "main")
	w := newWriter(t, srv, srv.Password)
	evil := "mallory>\ncommitter Root <root@example.com> 0 +0000\n<x"
	_, err := w.Apply(t.Context(), Batch{URL: url, Branch: "main", Message: "m",
		Author: Signature{Name: evil + strings.Repeat("é", 200), Email: "a<b>@c\r\n"}, Changes: []Change{{Path: "a", Content: []byte("a")}}})
	require.NoError(t, err)
	fsck(t, srv.Dir("author"))
	header := gitenv.Git(t, srv.Dir("author"), "cat-file", "commit", "main")
	require.Equal(t, 1, strings.Count(header, "\ncommitter "), header)
	co := checkout(t, srv, url)
	name := gitenv.Git(t, co, "log", "-1", "--format=%an")
	require.True(t, strings.HasPrefix(name, "mallory committer Root root@example.com 0 +0000 x"), name)
	require.LessOrEqual(t, len(name), maxIdentity)
	require.Equal(t, "ab@c", gitenv.Git(t, co, "log", "-1", "--format=%ae"))
	require.Equal(t, Signature{Name: "alice", Email: "alice@netbox"}, sanitize(Signature{Name: " alice\u200b ", Email: "alice@netbox"}))
}

// Clones are an LRU: at most CloneCacheMax, the least recently used
// removed first, one unused for CloneMaxIdle removed, one in use never.
func TestClonesAreBounded(t *testing.T) {
	srv := gitenv.Start(t)
	p, err := gitaccess.New(gitaccess.Options{DefaultURL: srv.URL + "/x.git", AllowHTTP: true,
		Default: gitaccess.Credentials{Username: srv.User, Token: srv.Password}})
	require.NoError(t, err)
	w, err := New(Options{WorkDir: t.TempDir(), Access: p, CloneCacheMax: 3}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	ctx := context.Background()
	urls := make([]string, 5)
	for i := range urls {
		urls[i] = srv.NewRepo(t, "r"+string(rune('a'+i)), "main")
		_, err := w.Apply(ctx, batch(urls[i]))
		require.NoError(t, err)
	}
	require.Len(t, cloneDirs(t, w), 3)
	last := func(u string) string { t2, err := w.resolve(u, "main"); require.NoError(t, err); return t2.dir }
	for _, u := range urls[2:] {
		require.DirExists(t, last(u))
	}
	// a clone in use survives, even over the cap
	hold := w.clones.acquire(last(urls[2]))
	for _, u := range urls[:2] {
		_, err := w.Apply(ctx, batch(u))
		require.NoError(t, err)
	}
	require.DirExists(t, last(urls[2]))
	hold()
	require.Len(t, cloneDirs(t, w), 3)
	for _, u := range urls[3:] {
		require.NoDirExists(t, last(u), "the least recently used clones not in use went")
	}
	// idle clones go
	w.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	_, _, err = w.Files(ctx, urls[0], "main", "")
	require.NoError(t, err)
	require.Equal(t, []string{last(urls[0])}, cloneDirs(t, w))
	_, err = os.Stat(last(urls[0]))
	require.NoError(t, err)
	// a new process adopts what it finds
	w2, err := New(Options{WorkDir: w.opts.WorkDir, Access: p, CloneCacheMax: 3}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	require.Equal(t, 1, w2.clones.len())
}
