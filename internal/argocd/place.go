package argocd

import (
	"context"
	"errors"
	"fmt"
)

// Places says which Argo CD each fabric's target goes to: the fabric's
// own (in its own cluster, as NetBox names it) or the sidecar's default.
// The syncer asks before every attempt, so a target read back from Redis
// (which holds no credentials) reaches the same Argo CD as when it was
// committed, and a fabric moved to another cluster in NetBox follows.
type Places interface {
	Place(ctx context.Context, fabric int64) (Place, error)
}

// Place is one fabric's Argo CD.
type Place struct {
	// Driver reaches it; nil: the syncer's default driver.
	Driver Driver
	// DestServer, when set, replaces the Application's destination server
	// and the AppProject's destinations: an Argo CD inside the fabric's
	// own cluster deploys to that cluster (InCluster).
	DestServer string
	// Where names it for logs and health: a server's URL, never a
	// credential ("" for the default).
	Where string
	// Untrusted: the server comes from NetBox and the configuration does
	// not vouch for it, so the sidecar's own repository credentials are
	// not given to it (its Argo CD must reach the repository by itself).
	Untrusted bool
}

// ErrRefusedPlace: the fabric's fields name an Argo CD or cluster the
// sidecar may not or cannot use (Places wraps it): the fabric's
// configuration to fix, shown on it like a foreign object, not retried as
// an outage.
var ErrRefusedPlace = errors.New("refused")

// ErrNoArgoCD: neither the fabric nor the sidecar names an Argo CD.
var ErrNoArgoCD = errors.New("argocd: no Argo CD for the fabric")

// InCluster is the destination server an Argo CD names its own cluster by.
const InCluster = "https://kubernetes.default.svc"

// placed completes t with the driver and AppProject of its fabric's Argo
// CD (the default ones without Places).
func (s *Syncer) placed(ctx context.Context, t Target) (Target, error) {
	t.drv, t.project, t.where = s.driver, s.opts.Project, ""
	if s.opts.Places == nil {
		if t.drv == nil {
			return t, fmt.Errorf("argocd: fabric %s: %w", t.FabricName, ErrNoArgoCD)
		}
		return t, nil
	}
	p, err := s.opts.Places.Place(ctx, t.Fabric)
	if err != nil {
		return t, fmt.Errorf("argocd: fabric %s: where its Argo CD is: %w", t.FabricName, err)
	}
	if p.Driver != nil {
		t.drv = p.Driver
	}
	if t.drv == nil {
		return t, fmt.Errorf("argocd: fabric %s: %w", t.FabricName, ErrNoArgoCD)
	}
	t.where = p.Where
	if p.Untrusted {
		t.Repo = Repository{}
	}
	if p.DestServer != "" {
		t.App.DestServer = p.DestServer
		if t.project != nil {
			t.project = t.project.At(p.DestServer)
		}
	}
	return t, nil
}

// At is p with every destination on server.
func (p *Project) At(server string) *Project {
	c := *p
	c.Destinations = make([]Destination, len(p.Destinations))
	for i, d := range p.Destinations {
		d.Server = server
		c.Destinations[i] = d
	}
	return &c
}
