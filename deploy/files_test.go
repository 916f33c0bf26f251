package deploy

import (
	"bufio"
	"debug/elf"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// TestComposeFile parses compose.yaml and checks what running next to
// netbox-docker depends on.
func TestComposeFile(t *testing.T) {
	b, err := os.ReadFile("compose/compose.yaml")
	require.NoError(t, err)
	var c struct {
		Services map[string]struct {
			Build struct {
				Context, Dockerfile string
			} `json:"build"`
			Image       string            `json:"image"`
			EnvFile     string            `json:"env_file"`
			Environment map[string]string `json:"environment"`
			Command     []string          `json:"command"`
			Volumes     []string          `json:"volumes"`
			Networks    map[string]any    `json:"networks"`
			ReadOnly    bool              `json:"read_only"`
		} `json:"services"`
		Networks map[string]struct {
			External bool   `json:"external"`
			Name     string `json:"name"`
		} `json:"networks"`
	}
	require.NoError(t, yaml.Unmarshal(b, &c), "compose.yaml")
	s, ok := c.Services["hnp-sidecar"]
	require.True(t, ok)
	require.FileExists(t, filepath.Join("compose", s.Build.Context, "go.mod"), "build context is the repository's root")
	require.Equal(t, "deploy/Dockerfile", s.Build.Dockerfile)
	require.FileExists(t, filepath.Join("compose", s.Build.Context, s.Build.Dockerfile))
	require.FileExists(t, filepath.Join("compose", s.EnvFile+".example"))
	require.Equal(t, "http://netbox:8080", s.Environment["HNP_NETBOX_URL"])
	require.True(t, s.ReadOnly)
	require.Contains(t, s.Networks, "netbox")
	require.True(t, c.Networks["netbox"].External)
	require.Equal(t, "${NETBOX_DOCKER_NETWORK:-netbox-docker_default}", c.Networks["netbox"].Name)
	r := c.Services["hnp-redis"]
	require.Equal(t, "redis:7", r.Image)
	require.Contains(t, strings.Join(r.Command, " "), "--appendonly yes --appendfsync always")
	require.NotContains(t, r.Networks, "netbox", "netbox-docker has a service called redis already")
	require.Contains(t, s.Networks, "default")
	for _, v := range c.Services["nginx"].Volumes {
		require.FileExists(t, filepath.Join("compose", strings.Split(v, ":")[0]))
	}
}

// TestEnvFilesNameKnownVariables: every HNP_ variable in the example files
// is one the service reads.
func TestEnvFilesNameKnownVariables(t *testing.T) {
	var environ []string
	for _, f := range []string{"compose/hnp-sidecar.env.example", "kustomize/base/config.env", "kustomize/base/secrets.env.example"} {
		fh, err := os.Open(f)
		require.NoError(t, err)
		sc := bufio.NewScanner(fh)
		n := 0
		for sc.Scan() {
			line := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "#"))
			if name, _, ok := strings.Cut(line, "="); ok && strings.HasPrefix(name, "HNP_") && !strings.Contains(name, " ") {
				environ = append(environ, line)
				n++
			}
		}
		require.NoError(t, fh.Close())
		require.Positive(t, n, f)
	}
	require.Empty(t, config.UnknownVariables(environ))
}

// TestDockerfileBuild does what the Dockerfile's build stage does, without
// Docker: the files its COPY lines take (minus what the .dockerignore
// leaves out) in an empty directory, its go build command with its flags,
// which must be the Makefile's; the binary must be static and run.
func TestDockerfileBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped under -short")
	}
	df, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	mk, err := os.ReadFile("../Makefile")
	require.NoError(t, err)
	want := regexp.MustCompile(`(?m)^LDFLAGS := (.*)$`).FindSubmatch(mk)
	require.NotNil(t, want)
	ldflags := regexp.MustCompile(`-ldflags "([^"]*)"`).FindSubmatch(df)
	require.NotNil(t, ldflags)
	require.Equal(t, strings.ReplaceAll(string(want[1]), "$(VERSION)", "${VERSION}"), string(ldflags[1]))
	require.Contains(t, string(df), "CGO_ENABLED=0")
	require.Contains(t, string(df), "go build -trimpath")
	require.Contains(t, string(df), "FROM gcr.io/distroless/static-debian12:nonroot")
	require.Regexp(t, `(?m)^USER 65532`, string(df))

	ignore := readIgnore(t, "Dockerfile.dockerignore")
	ctx := t.TempDir()
	copies := 0
	for line := range strings.SplitSeq(string(df), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "COPY" || strings.HasPrefix(f[1], "--") {
			continue
		}
		for _, src := range f[1 : len(f)-1] {
			copies++
			src = filepath.Clean(src)
			require.NoError(t, filepath.WalkDir(filepath.Join("..", src), func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel("..", p)
				if ignored(ignore, rel) {
					return nil
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				require.NoError(t, os.MkdirAll(filepath.Join(ctx, filepath.Dir(rel)), 0o755))
				return os.WriteFile(filepath.Join(ctx, rel), b, 0o644)
			}))
		}
	}
	require.GreaterOrEqual(t, copies, 5)
	bin := filepath.Join(t.TempDir(), "hnp-sidecar")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", strings.ReplaceAll(string(ldflags[1]), "${VERSION}", "v0.0.0-deploytest"),
		"-o", bin, "./cmd/hnp-sidecar")
	cmd.Dir = ctx
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build in the Docker context: %s", out)

	e, err := elf.Open(bin)
	require.NoError(t, err)
	defer func() { _ = e.Close() }()
	for _, p := range e.Progs {
		require.NotEqual(t, elf.PT_INTERP, p.Type, "not static: it has an interpreter")
	}
	libs, _ := e.ImportedLibraries()
	require.Empty(t, libs)
	require.Nil(t, e.Section(".symtab"), "-s: no symbol table")
	out, err = exec.Command(bin, "version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "v0.0.0-deploytest")
}

type ignoreRule struct {
	pattern string
	negate  bool
}

func readIgnore(t *testing.T, file string) []ignoreRule {
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var rules []ignoreRule
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{}
		if r.negate = strings.HasPrefix(line, "!"); r.negate {
			line = line[1:]
		}
		r.pattern = filepath.Clean(line)
		rules = append(rules, r)
	}
	return rules
}

// ignored applies .dockerignore rules as Docker does for the patterns used
// here: the last matching rule wins; a pattern matches a path or any of its
// parent directories; a leading **/ matches at any depth.
func ignored(rules []ignoreRule, path string) bool {
	parts := strings.Split(filepath.ToSlash(path), "/")
	match := func(pattern string) bool {
		for i := 1; i <= len(parts); i++ { // the path and its parents
			prefix := parts[:i]
			if rest, ok := strings.CutPrefix(pattern, "**/"); ok {
				for j := range prefix {
					if m, _ := filepath.Match(rest, strings.Join(prefix[j:], "/")); m {
						return true
					}
				}
				continue
			}
			if m, _ := filepath.Match(pattern, strings.Join(prefix, "/")); m {
				return true
			}
		}
		return false
	}
	out := false
	for _, r := range rules {
		if match(r.pattern) {
			out = !r.negate
		}
	}
	return out
}

// TestNginxRoutesSyncButton runs nginx with deploy/nginx/hnp-sidecar.conf
// (its upstreams pointed at two local stand-ins) and checks that the
// plugin's sync POST reaches the sidecar with what the sidecar's NetBox
// session check reads, that other methods are refused there, and that
// every other path reaches NetBox.
func TestNginxRoutesSyncButton(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		nginx = "/usr/sbin/nginx"
		if _, err := os.Stat(nginx); err != nil {
			t.Skip("nginx is not installed (apt-get install nginx-light)")
		}
	}
	type seen struct {
		who, method, path string
		header            http.Header
		host              string
	}
	got := make(chan seen, 10)
	stand := func(who string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got <- seen{who, r.Method, r.URL.Path, r.Header.Clone(), r.Host}
			w.WriteHeader(http.StatusAccepted)
		}))
		t.Cleanup(s.Close)
		return s
	}
	netbox, sidecar := stand("netbox"), stand("sidecar")
	conf, err := os.ReadFile("nginx/hnp-sidecar.conf")
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	s := string(conf)
	for old, repl := range map[string]string{
		"server netbox:8080;":      "server " + strings.TrimPrefix(netbox.URL, "http://") + ";",
		"server hnp-sidecar:8090;": "server " + strings.TrimPrefix(sidecar.URL, "http://") + ";",
		"listen 80;":               fmt.Sprintf("listen 127.0.0.1:%d;", port),
	} {
		require.Contains(t, s, old)
		s = strings.ReplaceAll(s, old, repl)
	}
	dir := t.TempDir()
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n"
	}
	main := fmt.Sprintf("%sdaemon off;\npid %[2]s/nginx.pid;\nerror_log %[2]s/error.log;\nevents {}\nhttp {\n"+
		"access_log %[2]s/access.log;\nclient_body_temp_path %[2]s/body;\nproxy_temp_path %[2]s/proxy;\n"+
		"fastcgi_temp_path %[2]s/fastcgi;\nuwsgi_temp_path %[2]s/uwsgi;\nscgi_temp_path %[2]s/scgi;\ninclude %[2]s/site.conf;\n}\n", user, dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "site.conf"), []byte(s), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644))
	cmd := exec.Command(nginx, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	cmd.Stderr = os.Stderr
	// Its own process group: the workers go with the master.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) // fast shutdown of master and workers
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond)

	// What a browser on NetBox's page at https://netbox.example.com:8443 sends.
	const host = "netbox.example.com:8443"
	req := func(method, path string) *http.Response {
		r, err := http.NewRequest(method, base+path, nil)
		require.NoError(t, err)
		r.Host = host
		r.Header.Set("Cookie", "sessionid=s3ss10n; csrftoken=csrf123")
		r.Header.Set("X-CSRFToken", "csrf123")
		r.Header.Set("Origin", "https://"+host)
		r.Header.Set("Referer", "https://"+host+"/plugins/hedgehog/fabrics/3/")
		resp, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp
	}
	require.Equal(t, 202, req(http.MethodPost, "/plugins/hedgehog/api/fabrics/3/gitops/sync/").StatusCode)
	s1 := <-got
	require.Equal(t, "sidecar", s1.who)
	require.Equal(t, "/plugins/hedgehog/api/fabrics/3/gitops/sync/", s1.path)
	require.Equal(t, host, s1.host, "the sidecar compares Origin's host with Host")
	require.Equal(t, "sessionid=s3ss10n; csrftoken=csrf123", s1.header.Get("Cookie"))
	require.Equal(t, "csrf123", s1.header.Get("X-CSRFToken"))
	require.Equal(t, "https://"+host, s1.header.Get("Origin"))
	require.NotEmpty(t, s1.header.Get("Referer"))

	require.Equal(t, http.StatusForbidden, req(http.MethodGet, "/plugins/hedgehog/api/fabrics/3/gitops/sync/").StatusCode)
	for _, p := range []string{"/", "/plugins/hedgehog/fabrics/3/", "/plugins/hedgehog/api/fabrics/3/gitops/sync/x",
		"/plugins/hedgehog/api/fabrics/abc/gitops/sync/", "/api/plugins/hedgehog/fabrics/3/"} {
		require.Equal(t, 202, req(http.MethodPost, p).StatusCode, p)
		s := <-got
		require.Equal(t, "netbox", s.who, p)
		require.Equal(t, host, s.host)
	}
	select {
	case s := <-got:
		t.Fatalf("unexpected request to %s: %s %s", s.who, s.method, s.path)
	default:
	}
}
