// Package gittest serves bare Git repositories over smart HTTP for tests:
// the real `git http-backend` behind Go's net/http/cgi, with basic auth,
// on 127.0.0.1.
package gittest

import (
	"crypto/subtle"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Server is a Git smart-HTTP server.
type Server struct {
	URL      string // base URL; repositories are at URL + "/" + name + ".git"
	Root     string // directory holding the bare repositories
	User     string
	Password string
	srv      *httptest.Server
}

// Start serves bare repositories under a temporary directory until t ends.
// Requests need basic auth with User/Password.
func Start(t testing.TB) *Server {
	t.Helper()
	backend := execPath(t) + "/git-http-backend"
	s := &Server{Root: t.TempDir(), User: "hnp", Password: "git-test-password"}
	h := &cgi.Handler{
		Path: backend,
		Env: []string{"GIT_PROJECT_ROOT=" + s.Root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=" + s.User,
			"GIT_CONFIG_NOSYSTEM=1", "HOME=" + s.Root},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u+":"+p), []byte(s.User+":"+s.Password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL
	return s
}

// NewRepo creates an empty bare repository whose HEAD is branch and
// returns its clone URL.
func (s *Server) NewRepo(t testing.TB, name, branch string) string {
	t.Helper()
	dir := filepath.Join(s.Root, name+".git")
	Git(t, "", "init", "-q", "--bare", "-b", branch, dir)
	Git(t, dir, "config", "http.receivepack", "true")
	return s.URL + "/" + name + ".git"
}

// Dir is the bare repository's directory.
func (s *Server) Dir(name string) string { return filepath.Join(s.Root, name+".git") }

// Hook installs a server-side hook script (e.g. "pre-receive").
func (s *Server) Hook(t testing.TB, name, hook, script string) {
	t.Helper()
	p := filepath.Join(s.Dir(name), "hooks", hook)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// Git runs git in dir with a clean identity and returns its trimmed output.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com", "GIT_TERMINAL_PROMPT=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func execPath(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("git not found: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// AuthURL is url with the server's credentials embedded, for the git CLI.
func (s *Server) AuthURL(url string) string {
	return strings.Replace(url, "http://", "http://"+s.User+":"+s.Password+"@", 1)
}
