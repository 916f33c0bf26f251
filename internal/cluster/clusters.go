package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

// Clusters hands out a client for each fabric's cluster: the fabric's own
// kubernetes_server, _token and _ca_cert from NetBox when set, else the
// sidecar's default (HNP_KUBECONFIG or in-cluster). Clients are reused;
// at most maxClients are kept (the least recently used goes first): the
// servers and tokens come from NetBox, so their number is not ours.
type Clusters struct {
	def  *rest.Config
	wrap func(http.RoundTripper) http.RoundTripper
	// allowed bounds the servers a fabric may name (Restrict).
	allowed []string
	mu      sync.Mutex
	cache   map[string]*cached
	tick    uint64 // use counter: the LRU order
}

// maxClients bounds the client cache.
const maxClients = 64

type cached struct {
	client  dynamic.Interface
	lastUse uint64
}

// NewClusters builds Clusters; def may be nil (then only fabrics that name
// their cluster are checked). wrap (may be nil) wraps every client's
// transport, e.g. in a circuit breaker.
func NewClusters(def *rest.Config, wrap func(http.RoundTripper) http.RoundTripper) *Clusters {
	return &Clusters{def: def, wrap: wrap, cache: map[string]*cached{}}
}

// Restrict bounds the servers a fabric's kubernetes_server may name to
// allowed (hosts, or host:port); empty: any https server (the token sent
// there is the fabric's own, from NetBox). Call it before use.
func (c *Clusters) Restrict(allowed []string) *Clusters {
	c.allowed = allowed
	return c
}

// Restricted reports whether the servers fabrics may name are listed in
// the configuration (HNP_CLUSTER_ALLOWED_SERVERS): only then does the
// configuration vouch for them.
func (c *Clusters) Restricted() bool { return len(c.allowed) > 0 }

// Own reports whether f names its own cluster (kubernetes_server).
func Own(f netbox.Fabric) bool { return strings.TrimSpace(f.KubernetesServer) != "" }

// Config is the configuration that reaches f's cluster: the fabric's own
// server, token and CA when NetBox names a server (checked against the
// policy: ErrServerRefused), else the default; ErrNoCluster when neither.
// The caller must not change it.
func (c *Clusters) Config(f netbox.Fabric) (*rest.Config, error) {
	if !Own(f) {
		if c.def == nil {
			return nil, ErrNoCluster
		}
		return c.def, nil
	}
	s := strings.TrimSpace(f.KubernetesServer)
	if err := CheckServer(s, c.allowed); err != nil {
		return nil, err
	}
	cfg := &rest.Config{Host: s, BearerToken: f.KubernetesToken}
	if ca := strings.TrimSpace(f.KubernetesCACert); ca != "" {
		cfg.CAData = []byte(ca)
	}
	return cfg, nil
}

// For returns the client for f's cluster and the server's URL.
func (c *Clusters) For(f netbox.Fabric) (dynamic.Interface, string, error) {
	cfg, err := c.Config(f)
	if err != nil {
		return nil, strings.TrimSpace(f.KubernetesServer), err
	}
	cfg = rest.CopyConfig(cfg)
	if c.wrap != nil {
		cfg.Wrap(c.wrap)
	}
	// A check is ~25 requests; client-go's default 5/s would make it 5 s.
	cfg.QPS, cfg.Burst = 50, 100
	sum := sha256.Sum256([]byte(cfg.Host + "\x00" + cfg.BearerToken + "\x00" + string(cfg.CAData)))
	key := hex.EncodeToString(sum[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick++
	if e := c.cache[key]; e != nil {
		e.lastUse = c.tick
		return e.client, cfg.Host, nil
	}
	d, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, cfg.Host, fmt.Errorf("cluster: client for %s: %w", cfg.Host, err)
	}
	if len(c.cache) >= maxClients {
		c.evictOldest()
	}
	c.cache[key] = &cached{client: d, lastUse: c.tick}
	return d, cfg.Host, nil
}

// evictOldest drops the least recently used client (a caller holding it
// keeps using it; only the cache forgets it).
func (c *Clusters) evictOldest() {
	var oldest string
	for k, e := range c.cache {
		if oldest == "" || e.lastUse < c.cache[oldest].lastUse {
			oldest = k
		}
	}
	delete(c.cache, oldest)
}
