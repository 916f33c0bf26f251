// Package placement says where each fabric's Argo CD runs and where its
// CRs go. A fabric whose NetBox record names its own cluster
// (kubernetes_server, kubernetes_token, kubernetes_ca_cert) has its Argo
// CD inside that cluster: the sidecar drives it through that cluster's
// Kubernetes API (the Application resource) and the Application deploys
// to the cluster it runs in. Any other fabric uses the sidecar's default
// Argo CD (HNP_ARGOCD_URL, or the Application resource through
// HNP_KUBECONFIG). The sidecar's own credentials never go to a server
// NetBox names: a fabric's argocd_server_url is only accepted when it is
// HNP_ARGOCD_URL, or informative next to kubernetes_server.
package placement

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/cluster"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/redact"
)

// ErrRefused: the fabric's fields name an Argo CD or cluster the sidecar
// may not or cannot reach; the fabric's configuration to fix.
var ErrRefused = fmt.Errorf("placement: %w", argocd.ErrRefusedPlace)

// Fabrics reads a fabric from NetBox.
type Fabrics interface {
	GetFabric(ctx context.Context, id int64) (netbox.Fabric, error)
}

// Options configure a Placer.
type Options struct {
	// DefaultArgoURL is HNP_ARGOCD_URL when the REST driver runs ("" else).
	DefaultArgoURL string
	// DefaultArgo reports whether the sidecar has a default Argo CD.
	DefaultArgo bool
	// DefaultDestServer is HNP_ARGOCD_DESTINATION_SERVER: the default
	// Argo CD's Applications' destination.
	DefaultDestServer string
	// TTL is how long a fabric read from NetBox (or handed to Remember) is
	// used before it is read again (10s).
	TTL time.Duration
}

// Placer places fabrics. Safe for concurrent use.
type Placer struct {
	fabrics  Fabrics
	clusters *cluster.Clusters
	opts     Options
	mu       sync.Mutex
	seen     map[int64]seenFabric
}

type seenFabric struct {
	f  netbox.Fabric
	at time.Time
}

// maxSeen bounds the fabrics remembered.
const maxSeen = 4096

// New builds a Placer; clusters hands out the fabrics' cluster clients
// (cached, bounded, behind the Kubernetes breaker).
func New(fabrics Fabrics, clusters *cluster.Clusters, opts Options) *Placer {
	if opts.TTL <= 0 {
		opts.TTL = 10 * time.Second
	}
	return &Placer{fabrics: fabrics, clusters: clusters, opts: opts, seen: map[int64]seenFabric{}}
}

// For is f's Argo CD: its own cluster's, or the default (no Driver).
func (p *Placer) For(f netbox.Fabric) (argocd.Place, error) {
	if cluster.Own(f) {
		dyn, host, err := p.clusters.For(f)
		if err != nil {
			return argocd.Place{}, fmt.Errorf("%w: fabric %s: kubernetes_server: %w", ErrRefused, f.Name, err)
		}
		// The server is NetBox's: only a listed one is trusted with the
		// sidecar's repository credentials.
		return argocd.Place{Driver: argocd.NewKube(dyn), DestServer: argocd.InCluster, Where: host,
			Untrusted: !p.clusters.Restricted()}, nil
	}
	if u := strings.TrimSpace(f.ArgocdServerURL); u != "" && !sameURL(u, p.opts.DefaultArgoURL) {
		return argocd.Place{}, fmt.Errorf("%w: fabric %s: argocd_server_url %s is not HNP_ARGOCD_URL, and the fabric names no "+
			"kubernetes_server to reach its Argo CD through: the sidecar has no credentials for it (set kubernetes_server, "+
			"kubernetes_token and kubernetes_ca_cert, or clear argocd_server_url)", ErrRefused, f.Name, redact.URL(u))
	}
	if !p.opts.DefaultArgo {
		return argocd.Place{}, fmt.Errorf("%w: fabric %s names no kubernetes_server and the sidecar has no default Argo CD "+
			"(HNP_ARGOCD_URL or HNP_KUBECONFIG)", ErrRefused, f.Name)
	}
	return argocd.Place{DestServer: p.opts.DefaultDestServer}, nil
}

// Destination checks f's place and returns its Applications' destination
// server ("" for the default); it remembers f for Place.
func (p *Placer) Destination(f netbox.Fabric) (string, error) {
	p.Remember(f)
	pl, err := p.For(f)
	return pl.DestServer, err
}

// Place is the place of a fabric by id (argocd.Places): as last read,
// within the TTL, else read from NetBox.
func (p *Placer) Place(ctx context.Context, id int64) (argocd.Place, error) {
	p.mu.Lock()
	s, ok := p.seen[id]
	p.mu.Unlock()
	if !ok || time.Since(s.at) > p.opts.TTL {
		f, err := p.fabrics.GetFabric(ctx, id)
		if err != nil {
			return argocd.Place{}, fmt.Errorf("placement: reading fabric %d: %w", id, err)
		}
		p.Remember(f)
		s.f = f
	}
	return p.For(s.f)
}

// Cluster is the cluster f's Argo CD is installed into: its own, else the
// sidecar's default (cluster.ErrNoCluster when none).
func (p *Placer) Cluster(f netbox.Fabric) (*rest.Config, error) {
	rc, err := p.clusters.Config(f)
	if errors.Is(err, cluster.ErrServerRefused) {
		return nil, fmt.Errorf("%w: fabric %s: %w", ErrRefused, f.Name, err)
	}
	return rc, err
}

// Remember keeps f (just read from NetBox) for Place.
func (p *Placer) Remember(f netbox.Fabric) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, has := p.seen[f.ID]; !has && len(p.seen) >= maxSeen {
		for id := range p.seen { // any: a fabric not here is read again
			delete(p.seen, id)
			break
		}
	}
	p.seen[f.ID] = seenFabric{f: f, at: time.Now()}
}

// sameURL compares two Argo CD URLs by scheme, host and path, ignoring
// case of the host and a trailing slash.
func sameURL(a, b string) bool {
	ua, err1 := url.Parse(strings.TrimSpace(a))
	ub, err2 := url.Parse(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || b == "" {
		return false
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host) &&
		strings.TrimSuffix(ua.Path, "/") == strings.TrimSuffix(ub.Path, "/") && ua.User == nil
}
