// Package argocdenv runs a real Argo CD (built from its Go module by
// test/cluster/build-argocd.sh) for tests, as three local processes —
// argocd-repo-server, argocd-application-controller and argocd-server —
// against a real Kubernetes API server (internal/testenv/cluster) and Redis
// (internal/testenv/redis), and stops them after.
//
// Argo CD's application-controller opens its metrics port on every interface
// (it has no address flag), so Start refuses to run outside a private network
// namespace whose only interface is the loopback: run the compiled test binary
// under test/cluster/in-netns.sh, after building and downloading everything:
//
//	test/cluster/build.sh && test/cluster/build-argocd.sh
//	go test -c -o /tmp/argocdenv.test ./internal/testenv/argocd
//	test/cluster/in-netns.sh /tmp/argocdenv.test -test.v
//
// Outside such a namespace, under -short, or when Argo CD is not built, tests
// that call Start are skipped; with HNP_ARGOCD_REQUIRED=1 (CI) the last two
// fail instead.
package argocdenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	clusterenv "github.com/githedgehog/hnp-sidecar/internal/testenv/cluster"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/proc"
)

const (
	// Version is the Argo CD release test/cluster/build-argocd.sh builds.
	Version = "v3.6.1"
	// Namespace is where Argo CD keeps its objects and Applications.
	Namespace = "argocd"
	// InCluster is the destination server Argo CD maps to the API server
	// (ARGOCD_FAKE_IN_CLUSTER with KUBECONFIG), as inside a pod: what
	// DESIGN.md §8's Applications name.
	InCluster = "https://kubernetes.default.svc"
)

// Options says what Argo CD runs against.
type Options struct {
	// Config reaches the API server as an admin: its Host, and a bearer
	// token or a client certificate (data or files). Argo CD gets the same
	// credentials, in a kubeconfig and in a cluster Secret.
	Config *rest.Config
	// RedisAddr is host:port of a Redis (internal/testenv/redis) Argo CD may use.
	RedisAddr string
	// Manifests are applied server-side before Argo CD starts, after its own
	// CRDs: e.g. the Hedgehog CRDs. Multi-document YAML or JSON.
	Manifests [][]byte
	// ConfigMapData is merged into argocd-cm (e.g. timeout.reconciliation).
	ConfigMapData map[string]string
	// LogLevel of the three processes; "info" when empty.
	LogLevel string
}

// Env is a running Argo CD.
type Env struct {
	// URL is argocd-server's base URL (plain HTTP on 127.0.0.1).
	URL string
	// Token is a bearer token of the admin user for the REST API.
	Token string
	// AdminPassword is the admin user's password (argocd-initial-admin-secret).
	AdminPassword string
	// Namespace of Argo CD's objects and Applications.
	Namespace string
	// ClusterServer is the API server's URL, registered as a cluster
	// (a Secret); InCluster reaches the same API server.
	ClusterServer string
	// RepoServer is argocd-repo-server's gRPC address (plaintext).
	RepoServer string
	// Dir holds the processes' logs (<name>.log), kubeconfig and TMPDIR.
	Dir string
	// Started is how long Run took; Phases says how long each phase took
	// (bootstrap, each process ready, login).
	Started time.Duration
	Phases  string

	procs []*proc.Proc
}

// Paths are the built Argo CD's files.
type Paths struct {
	// Bin holds argocd, the three role symlinks and git-verify-wrapper.sh.
	Bin string
	// Module is Argo CD's module directory in the Go module cache
	// (manifests/crds, manifests/install.yaml).
	Module string
}

// CacheDir is where test/cluster/build-argocd.sh puts its output.
func CacheDir() string {
	base := os.Getenv("HNP_CACHE_DIR")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache", "hnp-sidecar")
	}
	return filepath.Join(base, "cluster", "argocd-"+Version)
}

// BuildScript is test/cluster/build-argocd.sh, found from this source file.
func BuildScript() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "test", "cluster", "build-argocd.sh")
}

// Find returns the built Argo CD, or an error that says how to build it.
func Find() (Paths, error) {
	dir := CacheDir()
	p := Paths{Bin: filepath.Join(dir, "bin")}
	hint := fmt.Sprintf("argocdenv: Argo CD %s is not built; run %s first (a few minutes, ~3 GB)", Version, BuildScript())
	for _, f := range []string{"argocd", "argocd-application-controller", "argocd-repo-server", "argocd-server", "git-verify-wrapper.sh"} {
		if st, err := os.Stat(filepath.Join(p.Bin, f)); err != nil || st.Mode()&0o111 == 0 {
			return p, fmt.Errorf("%s: missing %s", hint, filepath.Join(p.Bin, f))
		}
	}
	m, err := os.ReadFile(filepath.Join(dir, "module-dir"))
	if err != nil {
		return p, fmt.Errorf("%s: %w", hint, err)
	}
	p.Module = strings.TrimSpace(string(m))
	for _, f := range []string{"manifests/install.yaml", "manifests/crds/application-crd.yaml"} {
		if _, err := os.Stat(filepath.Join(p.Module, f)); err != nil {
			return p, fmt.Errorf("%s (the module cache lost it): %w", hint, err)
		}
	}
	return p, nil
}

// InstallManifest is the Argo CD release manifest tests install: the built
// Argo CD module's (Version), else the shared upstream copy of v3.5.1 (next
// to the repository, or $HNP_UPSTREAM_DIR/argocd); t is skipped when
// neither is there.
func InstallManifest(t testing.TB) string {
	t.Helper()
	if p, err := Find(); err == nil {
		return filepath.Join(p.Module, "manifests", "install.yaml")
	}
	f := filepath.Join(filepath.Dir(clusterenv.HedgehogCRDDir()), "argocd", "install-v3.5.1.yaml")
	if _, err := os.Stat(f); err != nil {
		t.Skipf("no Argo CD install manifest: Argo CD %s is not built (test/cluster/build-argocd.sh) and %s is missing", Version, f)
	}
	return f
}

// CheckNetns returns an error unless the process is in a network namespace
// whose only interface is the loopback, so that nothing started can listen
// on a host interface.
func CheckNetns() error {
	ifs, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("argocdenv: list network interfaces: %w", err)
	}
	var other []string
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback == 0 {
			other = append(other, i.Name)
		}
	}
	if len(other) > 0 {
		return fmt.Errorf("argocdenv: not in a private network namespace (interfaces %s besides lo); "+
			"Argo CD's controller would listen on them: run the test binary under test/cluster/in-netns.sh", strings.Join(other, ", "))
	}
	return nil
}

// Skip skips t under -short or outside a private network namespace, and
// when Argo CD is not built (with HNP_ARGOCD_REQUIRED=1 the last two fail t).
// It returns what Find found.
func Skip(t testing.TB) Paths {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real Argo CD, API server and Redis; skipped under -short")
	}
	skip := t.Skip
	if os.Getenv("HNP_ARGOCD_REQUIRED") == "1" {
		skip = t.Fatal
	}
	if err := CheckNetns(); err != nil {
		skip(err.Error())
	}
	p, err := Find()
	if err != nil {
		skip(err.Error())
	}
	return p
}

// Start runs Argo CD for the duration of t (see Skip for when it is
// skipped).
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	paths := Skip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := Run(ctx, paths, t.TempDir(), opts)
	if e != nil {
		t.Cleanup(e.Stop)
	}
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Run bootstraps Argo CD's objects in the API server, starts the three
// processes on free ports of 127.0.0.1 with their files under dir, waits
// until they are ready and logs in as admin. It does not check the network
// namespace (Start does). On error the returned Env, if any, has what was
// started and must be stopped.
func Run(ctx context.Context, paths Paths, dir string, opts Options) (*Env, error) {
	begin := time.Now()
	if opts.Config == nil || opts.RedisAddr == "" {
		return nil, errors.New("argocdenv: Options.Config and Options.RedisAddr are required")
	}
	e := &Env{Namespace: Namespace, Dir: dir, ClusterServer: strings.TrimSuffix(opts.Config.Host, "/")}
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(opts.Config, kubeconfig); err != nil {
		return nil, err
	}
	if err := bootstrap(ctx, paths, opts, e.ClusterServer); err != nil {
		return nil, err
	}
	phases := []string{"bootstrap " + time.Since(begin).Round(time.Millisecond).String()}
	mark := time.Now()

	level := opts.LogLevel
	if level == "" {
		level = "info"
	}
	ports, err := proc.FreePorts(6)
	if err != nil {
		return nil, fmt.Errorf("argocdenv: %w", err)
	}
	repo, repoMetrics, ctrlMetrics, server, serverMetrics := ports[0], ports[1], ports[2], ports[3], ports[4]
	e.RepoServer = addr(repo)
	e.URL = "http://" + addr(server)
	env := append(environ(),
		"ARGOCD_GPG_ENABLED=false",
		"TMPDIR="+tmp,
		"ARGOCD_ASK_PASS_SOCK="+filepath.Join(tmp, "ask-pass.sock"),
		"PATH="+paths.Bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		// kubernetes.default.svc is the API server, as inside a pod.
		"ARGOCD_FAKE_IN_CLUSTER=true",
		"KUBECONFIG="+kubeconfig,
		"ARGOCD_PLUGINSOCKFILEPATH="+filepath.Join(tmp, "plugins"),
		"GIT_TERMINAL_PROMPT=0",
	)
	common := []string{"--loglevel", level, "--logformat", "text"}
	specs := []struct {
		name  string
		args  []string
		ready string // URL answering 200 when ready
	}{
		{"argocd-repo-server", []string{"--address", "127.0.0.1", "--port", strconv.Itoa(repo),
			"--metrics-address", "127.0.0.1", "--metrics-port", strconv.Itoa(repoMetrics),
			"--redis", opts.RedisAddr, "--disable-tls", "--client-ca-path", "", "--parallelismlimit", "4"},
			"http://" + addr(repoMetrics) + "/healthz"},
		{"argocd-application-controller", []string{"--kubeconfig", kubeconfig, "--namespace", Namespace,
			"--redis", opts.RedisAddr, "--repo-server", e.RepoServer, "--repo-server-plaintext",
			"--metrics-port", strconv.Itoa(ctrlMetrics), "--status-processors", "4", "--operation-processors", "4"},
			"http://" + addr(ctrlMetrics) + "/healthz"},
		{"argocd-server", []string{"--kubeconfig", kubeconfig, "--namespace", Namespace, "--insecure",
			"--address", "127.0.0.1", "--port", strconv.Itoa(server),
			"--metrics-address", "127.0.0.1", "--metrics-port", strconv.Itoa(serverMetrics),
			"--redis", opts.RedisAddr, "--repo-server", e.RepoServer, "--repo-server-plaintext",
			"--dex-server", "http://127.0.0.1:1", "--staticassets", filepath.Join(dir, "no-ui")},
			e.URL + "/healthz"},
	}
	for _, s := range specs {
		if err := e.start(paths, s.name, append(s.args, common...), env); err != nil {
			return e, err
		}
	}
	for i, s := range specs {
		if err := waitHTTP(ctx, s.ready, e.procs[i]); err != nil {
			return e, err
		}
		phases = append(phases, s.name+" ready "+time.Since(mark).Round(time.Millisecond).String())
	}
	mark = time.Now()
	pw, err := adminPassword(ctx, opts.Config)
	if err != nil {
		return e, e.withLogs(err)
	}
	e.AdminPassword = pw
	if e.Token, err = login(ctx, e.URL, "admin", pw); err != nil {
		return e, e.withLogs(err)
	}
	e.Started = time.Since(begin)
	e.Phases = strings.Join(append(phases, "login "+time.Since(mark).Round(time.Millisecond).String()), ", ")
	return e, nil
}

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

// writeKubeconfig writes cfg as a kubeconfig for Argo CD's processes.
func writeKubeconfig(cfg *rest.Config, path string) error {
	auth := &clientcmdapi.AuthInfo{
		Token: cfg.BearerToken, TokenFile: cfg.BearerTokenFile,
		ClientCertificateData: cfg.CertData, ClientCertificate: cfg.CertFile,
		ClientKeyData: cfg.KeyData, ClientKey: cfg.KeyFile,
		Username: cfg.Username, Password: cfg.Password,
	}
	cluster := &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData,
		CertificateAuthority: cfg.CAFile, InsecureSkipTLSVerify: cfg.Insecure, TLSServerName: cfg.ServerName}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = cluster
	kc.AuthInfos["test"] = auth
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "test", Namespace: Namespace}
	kc.CurrentContext = "test"
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("argocdenv: write kubeconfig: %w", err)
	}
	return nil
}

// clusterConfig is the cluster Secret's "config": how Argo CD reaches the
// API server when an Application names ClusterServer.
func clusterConfig(cfg *rest.Config) ([]byte, error) {
	read := func(data []byte, file string) ([]byte, error) {
		if len(data) > 0 || file == "" {
			return data, nil
		}
		return os.ReadFile(file)
	}
	token := cfg.BearerToken
	if token == "" && cfg.BearerTokenFile != "" {
		b, err := os.ReadFile(cfg.BearerTokenFile)
		if err != nil {
			return nil, err
		}
		token = strings.TrimSpace(string(b))
	}
	cert, err := read(cfg.CertData, cfg.CertFile)
	if err != nil {
		return nil, err
	}
	key, err := read(cfg.KeyData, cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	ca, err := read(cfg.CAData, cfg.CAFile)
	if err != nil {
		return nil, err
	}
	tls := map[string]any{}
	if len(ca) > 0 && !cfg.Insecure {
		tls["caData"] = ca
	} else {
		tls["insecure"] = true
	}
	if len(cert) > 0 {
		tls["certData"], tls["keyData"] = cert, key
	}
	if cfg.ServerName != "" {
		tls["serverName"] = cfg.ServerName
	}
	c := map[string]any{"tlsClientConfig": tls}
	if token != "" {
		c["bearerToken"] = token
	}
	if cfg.Username != "" {
		c["username"], c["password"] = cfg.Username, cfg.Password
	}
	return json.Marshal(c)
}

// adminPassword waits for argocd-server to write argocd-initial-admin-secret.
func adminPassword(ctx context.Context, cfg *rest.Config) (string, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", err
	}
	for {
		s, err := cs.CoreV1().Secrets(Namespace).Get(ctx, "argocd-initial-admin-secret", metav1.GetOptions{})
		if err == nil && len(s.Data["password"]) > 0 {
			return string(s.Data["password"]), nil
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return "", fmt.Errorf("argocdenv: read argocd-initial-admin-secret: %w", err)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("argocdenv: argocd-server wrote no argocd-initial-admin-secret: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// login returns a session token (POST /api/v1/session).
func login(ctx context.Context, base, user, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/session", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("argocdenv: login: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("argocdenv: login: HTTP %d: %s", resp.StatusCode, b)
	}
	var out struct{ Token string }
	if err := json.Unmarshal(b, &out); err != nil || out.Token == "" {
		return "", fmt.Errorf("argocdenv: login: no token in %s", b)
	}
	return out.Token, nil
}

// waitHTTP waits until url answers 200, failing early when p exits.
func waitHTTP(ctx context.Context, url string, p *proc.Proc) error {
	if err := proc.WaitHTTP(ctx, nil, url, p); err != nil {
		return fmt.Errorf("argocdenv: %w", err)
	}
	return nil
}

// environ is this process's environment without what would change how
// Argo CD runs (ARGOCD_*, KUBECONFIG, proxies).
func environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch uk := strings.ToUpper(k); {
		case strings.HasPrefix(uk, "ARGOCD_"), uk == "KUBECONFIG", uk == "HTTP_PROXY", uk == "HTTPS_PROXY", uk == "NO_PROXY", uk == "ALL_PROXY":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
