package argocdenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/proc"
)

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
