// Package clusterenv starts a private, real Kubernetes API server for tests
// and stops it after: etcd and kube-apiserver, built from source at pinned
// versions by test/cluster/build.sh (cached; ~5 minutes cold), run as two
// local processes on 127.0.0.1 with their data in a temporary directory. No
// controller-manager, scheduler or kubelet: objects are stored and validated
// (CRD schemas, CEL rules, admission), nothing runs.
//
// Start also installs the Hedgehog CRDs from ../shared/upstream/hedgehog-crds
// (next to the repository) by server-side apply and waits until they are
// Established; Apply installs any other manifests (CRDs first).
package clusterenv

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/proc"
)

// Cluster is a running etcd and kube-apiserver.
type Cluster struct {
	// URL is the API server's base URL: https://127.0.0.1:<port>.
	URL string
	// Token is a bearer token of the admin user (group system:masters).
	Token string
	// CA is the PEM certificate the serving certificate is signed by.
	CA []byte
	// CAFile holds CA.
	CAFile string
	// Config reaches the API server as the admin, verifying TLS with CA.
	Config *rest.Config
	// EtcdURL is etcd's client URL (plain HTTP on 127.0.0.1).
	EtcdURL string
	// Dir holds the processes' logs (etcd.log, kube-apiserver.log), etcd's
	// data, the certificates and keys.
	Dir string
	// Started is how long the two processes took to be ready (without the
	// build and without installing CRDs).
	Started time.Duration
	// Version is the API server's /version gitVersion.
	Version string

	procs   []*proc.Proc
	clients clients
}

// Options says what to start.
type Options struct {
	// NoHedgehogCRDs leaves the Hedgehog CRDs out.
	NoHedgehogCRDs bool
	// Manifests are applied server-side once the API server is ready (after
	// the Hedgehog CRDs): multi-document YAML or JSON, CRDs and Namespaces
	// first.
	Manifests [][]byte
	// LogLevel is kube-apiserver's -v; 0 when empty.
	LogLevel int
}

// Start runs an API server with the Hedgehog CRDs for the duration of t. It
// is skipped under -short, and when the CRDs are not found.
func Start(t testing.TB) *Cluster {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real kube-apiserver and etcd (test/cluster/build.sh); skipped under -short")
	}
	var crds []string
	if !opts.NoHedgehogCRDs {
		dir := HedgehogCRDDir()
		var err error
		if crds, err = filepath.Glob(filepath.Join(dir, "*.yaml")); err != nil || len(crds) == 0 {
			t.Skipf("clusterenv: no Hedgehog CRDs at %s (*.yaml): they are read at run time from ../shared/upstream/hedgehog-crds next to the repository", dir)
		}
	}
	bins, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Run(bins, t.TempDir(), opts.LogLevel)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	etcdRSS, apiRSS := c.RSS()
	t.Logf("clusterenv: kube-apiserver %s at %s ready in %s; RSS etcd %d MB, kube-apiserver %d MB",
		c.Version, c.URL, c.Started.Round(time.Millisecond), etcdRSS>>20, apiRSS>>20)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if len(crds) > 0 {
		start := time.Now()
		if err := c.ApplyFiles(ctx, crds...); err != nil {
			t.Fatalf("clusterenv: installing the Hedgehog CRDs: %v", err)
		}
		t.Logf("clusterenv: %d Hedgehog CRDs established in %s", len(crds), time.Since(start).Round(time.Millisecond))
	}
	if len(opts.Manifests) > 0 {
		if err := c.Apply(ctx, opts.Manifests...); err != nil {
			t.Fatalf("clusterenv: applying manifests: %v", err)
		}
	}
	return c
}

// RepoRoot is the repository's root, found from this source file.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// HedgehogCRDDir is the shared upstream data's hedgehog-crds directory:
// $HNP_UPSTREAM_DIR/hedgehog-crds when set, else ../shared/upstream next to
// the repository, else next to the repository a local clone was made from
// (CI tests a clean clone elsewhere). The first candidate is returned when
// none exists, for the skip message.
func HedgehogCRDDir() string {
	var candidates []string
	if d := os.Getenv("HNP_UPSTREAM_DIR"); d != "" {
		candidates = append(candidates, filepath.Join(d, "hedgehog-crds"))
	}
	candidates = append(candidates, filepath.Join(RepoRoot(), "..", "shared", "upstream", "hedgehog-crds"))
	if out, err := exec.Command("git", "-C", RepoRoot(), "config", "--get", "remote.origin.url").Output(); err == nil {
		origin := strings.TrimPrefix(strings.TrimSpace(string(out)), "file://")
		if filepath.IsAbs(origin) {
			candidates = append(candidates, filepath.Join(origin, "..", "shared", "upstream", "hedgehog-crds"))
		}
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c
		}
	}
	return candidates[0]
}

// BuildScript is test/cluster/build.sh.
func BuildScript() string {
	return filepath.Join(RepoRoot(), "test", "cluster", "build.sh")
}

// Binaries are the built etcd and kube-apiserver.
type Binaries struct {
	Etcd, KubeAPIServer string
}

var built struct {
	once sync.Once
	bins Binaries
	err  error
}

// Build runs test/cluster/build.sh once per process and returns its
// binaries. It is quick when they are cached; a cold build takes minutes and
// needs the Go module proxy.
func Build() (Binaries, error) {
	built.once.Do(func() {
		start := time.Now()
		cmd := exec.Command(BuildScript())
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			built.err = fmt.Errorf("clusterenv: %s: %w\n%s", BuildScript(), err, stderr.String())
			return
		}
		for line := range strings.Lines(string(out)) {
			name, path, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch name {
			case "etcd":
				built.bins.Etcd = path
			case "kube-apiserver":
				built.bins.KubeAPIServer = path
			}
		}
		if built.bins.Etcd == "" || built.bins.KubeAPIServer == "" {
			built.err = fmt.Errorf("clusterenv: %s printed no binaries:\n%s%s", BuildScript(), out, stderr.String())
			return
		}
		if stderr.Len() > 0 { // something was built: show its times
			fmt.Fprintf(os.Stderr, "%sclusterenv: build.sh took %s\n", stderr.String(), time.Since(start).Round(time.Second))
		}
	})
	return built.bins, built.err
}

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

type credentials struct {
	token, tokens     string
	ca                []byte
	caFile, cert, key string
	saKey, saPub      string
}

// writeCredentials writes a CA and a serving certificate signed by it (ECDSA
// P-256, for 127.0.0.1, localhost and the in-cluster names), the
// service-account key pair (RSA 2048) and the token file with one admin in group system:masters.
func writeCredentials(dir string) (credentials, error) {
	var cr credentials
	write := func(name string, data []byte) (string, error) {
		p := filepath.Join(dir, name)
		return p, os.WriteFile(p, data, 0o600)
	}
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		return cr, err
	}
	cr.token = hex.EncodeToString(tok)
	var err error
	if cr.tokens, err = write("tokens.csv", []byte(cr.token+`,admin,admin,"system:masters"`+"\n")); err != nil {
		return cr, err
	}

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return cr, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "hnp-sidecar clusterenv CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return cr, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return cr, err
	}
	cr.ca = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	if cr.caFile, err = write("ca.crt", cr.ca); err != nil {
		return cr, err
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return cr, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return cr, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.ParseIP("10.96.0.1")},
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return cr, err
	}
	if cr.cert, err = write("apiserver.crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
		return cr, err
	}
	if cr.key, err = write("apiserver.key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})); err != nil {
		return cr, err
	}

	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return cr, err
	}
	if cr.saKey, err = write("sa.key", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)})); err != nil {
		return cr, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return cr, err
	}
	if cr.saPub, err = write("sa.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})); err != nil {
		return cr, err
	}
	return cr, nil
}
