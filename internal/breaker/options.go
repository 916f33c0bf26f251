package breaker

import (
	"errors"
	"time"
)

// Dependency is one of the services the sidecar calls.
type Dependency string

// The dependencies; metrics and health are labelled with them.
const (
	Git        Dependency = "git"
	ArgoCD     Dependency = "argocd"
	Kubernetes Dependency = "kubernetes"
	NetBox     Dependency = "netbox"
)

func (d Dependency) valid() bool {
	switch d {
	case Git, ArgoCD, Kubernetes, NetBox:
		return true
	}
	return false
}

// Options configure every breaker of a Set.
type Options struct {
	// ConsecutiveFailures in a row open a closed breaker.
	ConsecutiveFailures uint32
	// OpenTimeout is how long an open breaker refuses calls before it lets
	// probes through (half-open).
	OpenTimeout time.Duration
	// HalfOpenMaxRequests probes run while half-open; that many successes
	// close the breaker, one failure opens it again.
	HalfOpenMaxRequests uint32
	// Interval clears a closed breaker's counts periodically; 0 never does
	// (a success resets the consecutive failures anyway).
	Interval time.Duration
	// CallTimeout bounds each call through Do; 0 leaves it to the caller's
	// ctx, whose end is never a failure (see the package doc).
	CallTimeout time.Duration
}

// DefaultOptions are the production defaults.
func DefaultOptions() Options {
	return Options{ConsecutiveFailures: 5, OpenTimeout: 30 * time.Second, HalfOpenMaxRequests: 1}
}

func (o Options) validate() error {
	switch {
	case o.ConsecutiveFailures < 1:
		return errors.New("breaker: options: consecutive failures must be >= 1")
	case o.OpenTimeout <= 0:
		return errors.New("breaker: options: open timeout must be > 0")
	case o.HalfOpenMaxRequests < 1:
		return errors.New("breaker: options: half-open max requests must be >= 1")
	case o.Interval < 0 || o.CallTimeout < 0:
		return errors.New("breaker: options: interval and call timeout must be >= 0")
	}
	return nil
}
