package clusterenv

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/proc"
)

// Run starts etcd and kube-apiserver from bins with their files in dir and
// waits until the API server is ready. logLevel is kube-apiserver's -v.
func Run(bins Binaries, dir string, logLevel int) (*Cluster, error) {
	var lastErr error
	for try := 0; try < 3; try++ { // a free port can be taken between pick and listen
		c, err := run(bins, dir, logLevel, try)
		if err == nil {
			return c, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func run(bins Binaries, dir string, logLevel, try int) (*Cluster, error) {
	start := time.Now()
	dir = filepath.Join(dir, "try-"+strconv.Itoa(try))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ports, err := proc.FreePorts(3)
	if err != nil {
		return nil, fmt.Errorf("clusterenv: %w", err)
	}
	c := &Cluster{Dir: dir, EtcdURL: "http://127.0.0.1:" + strconv.Itoa(ports[0])}
	peer := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	etcd, err := c.spawn("etcd", bins.Etcd,
		"--name=default", "--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+c.EtcdURL, "--advertise-client-urls="+c.EtcdURL,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
		"--initial-cluster=default="+peer, "--initial-cluster-state=new",
		"--unsafe-no-fsync", "--log-level=warn")
	if err != nil {
		return nil, err
	}
	files, err := writeCredentials(dir) // while etcd starts
	if err != nil {
		c.Stop()
		return nil, err
	}
	if err := waitHTTP(http.DefaultClient, etcd, c.EtcdURL+"/health", 30*time.Second); err != nil {
		c.Stop()
		return nil, err
	}
	c.Token, c.CA, c.CAFile = files.token, files.ca, files.caFile
	c.URL = "https://127.0.0.1:" + strconv.Itoa(ports[2])
	api, err := c.spawn("kube-apiserver", bins.KubeAPIServer,
		"--etcd-servers="+c.EtcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(ports[2]),
		"--tls-cert-file="+files.cert, "--tls-private-key-file="+files.key,
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--token-auth-file="+files.tokens,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+files.saPub,
		"--service-account-signing-key-file="+files.saKey,
		"--service-cluster-ip-range=10.96.0.0/12",
		"--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--v="+strconv.Itoa(logLevel))
	if err != nil {
		c.Stop()
		return nil, err
	}
	cfg := &rest.Config{
		Host:            c.URL,
		BearerToken:     c.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.CA},
		QPS:             1000,
		Burst:           2000,
		UserAgent:       "hnp-sidecar-clusterenv",
	}
	c.Config = cfg
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		c.Stop()
		return nil, err
	}
	if err := waitHTTP(hc, api, c.URL+"/readyz", 60*time.Second); err != nil {
		c.Stop()
		return nil, err
	}
	c.Started = time.Since(start)
	v, err := c.version(hc)
	if err != nil {
		c.Stop()
		return nil, err
	}
	c.Version = v
	return c, nil
}

func (c *Cluster) spawn(name, bin string, args ...string) (*proc.Proc, error) {
	// Killed with the test process if that dies first.
	p, err := proc.Start(proc.Spec{Name: name, Path: bin, Args: args, Dir: c.Dir,
		Log: filepath.Join(c.Dir, name+".log"), Pdeathsig: true})
	if err != nil {
		return nil, fmt.Errorf("clusterenv: %w", err)
	}
	c.procs = append(c.procs, p)
	return p, nil
}

// waitHTTP polls url until it answers 200, p exits, or timeout passes.
func waitHTTP(hc *http.Client, p *proc.Proc, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := proc.WaitHTTP(ctx, hc, url, p); err != nil {
		return fmt.Errorf("clusterenv: %w", err)
	}
	return nil
}

func (c *Cluster) version(hc *http.Client) (string, error) {
	resp, err := hc.Get(c.URL + "/version")
	if err != nil {
		return "", fmt.Errorf("clusterenv: /version: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	const key = `"gitVersion": "`
	i := strings.Index(string(b), key)
	if resp.StatusCode != http.StatusOK || i < 0 {
		return "", fmt.Errorf("clusterenv: /version: %s: %s", resp.Status, b)
	}
	v, _, _ := strings.Cut(string(b[i+len(key):]), `"`)
	return v, nil
}

// Stop ends kube-apiserver, then etcd (each process group: SIGTERM, then
// SIGKILL after 10 s), and waits for them.
func (c *Cluster) Stop() { proc.StopAll(c.procs, 10*time.Second) }

// RSS is the resident memory in bytes of etcd and kube-apiserver now.
func (c *Cluster) RSS() (etcd, apiserver int64) {
	for _, p := range c.procs {
		switch p.Name {
		case "etcd":
			etcd = p.RSS()
		case "kube-apiserver":
			apiserver = p.RSS()
		}
	}
	return etcd, apiserver
}
