// Package gitenv serves bare Git repositories over smart HTTP for tests:
// the real `git http-backend` behind Go's net/http/cgi, with basic auth,
// on 127.0.0.1.
package gitenv

import (
	"bytes"
	"crypto/subtle"
	"crypto/tls"
	"fmt"
	"io"
	"net"
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
	s, err := Serve(t.TempDir(), "hnp", "git-test-password", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Serve serves the bare repositories under root on addr (a 127.0.0.1
// address) with basic auth until Close. `make run` uses it too.
func Serve(root, user, password, addr string) (*Server, error) {
	return serve(root, user, password, addr, nil)
}

// StartTLS is Start over https with cert (see tlsca) until t ends.
func StartTLS(t testing.TB, cert tls.Certificate) *Server {
	t.Helper()
	s, err := serve(t.TempDir(), "hnp", "git-test-password", "127.0.0.1:0", &cert)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func serve(root, user, password, addr string, cert *tls.Certificate) (*Server, error) {
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return nil, fmt.Errorf("gitenv: git not found: %w", err)
	}
	s := &Server{Root: root, User: user, Password: password}
	h := &cgi.Handler{
		Path: strings.TrimSpace(string(out)) + "/git-http-backend",
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=" + user,
			"GIT_CONFIG_NOSYSTEM=1", "HOME=" + root},
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("gitenv: listen: %w", err)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u+":"+p), []byte(s.User+":"+s.Password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.ContentLength < 0 || len(r.TransferEncoding) > 0 {
			// net/http/cgi refuses chunked bodies; git sends big packs so.
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<30))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body, r.ContentLength, r.TransferEncoding = io.NopCloser(bytes.NewReader(body)), int64(len(body)), nil
		}
		h.ServeHTTP(w, r)
	}))
	_ = s.srv.Listener.Close()
	s.srv.Listener = l
	if cert != nil {
		s.srv.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	s.URL = s.srv.URL
	return s, nil
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Create makes an empty bare repository name.git on branch unless it
// exists, and returns its clone URL.
func (s *Server) Create(name, branch string) (string, error) {
	dir := s.Dir(name)
	if _, err := os.Stat(dir); err != nil {
		for _, args := range [][]string{{"init", "-q", "--bare", "-b", branch, dir}, {"-C", dir, "config", "http.receivepack", "true"}} {
			if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
				return "", fmt.Errorf("gitenv: git %s: %w\n%s", strings.Join(args, " "), err, out)
			}
		}
	}
	return s.URL + "/" + name + ".git", nil
}

// NewRepo creates an empty bare repository whose HEAD is branch and
// returns its clone URL.
func (s *Server) NewRepo(t testing.TB, name, branch string) string {
	t.Helper()
	url, err := s.Create(name, branch)
	if err != nil {
		t.Fatal(err)
	}
	return url
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

// AuthURL is url with the server's credentials embedded, for the git CLI.
func (s *Server) AuthURL(url string) string {
	if strings.HasPrefix(url, "https://") {
		return strings.Replace(url, "https://", "https://"+s.User+":"+s.Password+"@", 1)
	}
	return strings.Replace(url, "http://", "http://"+s.User+":"+s.Password+"@", 1)
}
