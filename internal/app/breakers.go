package app

import (
	"context"
	"errors"
	"net/http"

	"github.com/githedgehog/hnp-sidecar/internal/breaker"
	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/health"
)

// breakerGit sends the Git writer's calls through the breaker of each
// remote. An answer from a remote that is up — credentials refused, a hook
// declining the push, a branch that kept moving, a bad change — is no
// outage and does not count.
type breakerGit struct {
	w   *gitops.Writer
	set *breaker.Set
}

func (g breakerGit) Apply(ctx context.Context, b gitops.Batch) (gitops.Result, error) {
	var res gitops.Result
	err := g.set.Get(breaker.Git, b.URL).Do(ctx, func(ctx context.Context) error {
		var err error
		res, err = g.w.Apply(ctx, b)
		return gitAnswer(err)
	})
	return res, err
}

func (g breakerGit) Files(ctx context.Context, url, branch, dir string) (string, map[string][]byte, error) {
	var tip string
	var files map[string][]byte
	err := g.set.Get(breaker.Git, url).Do(ctx, func(ctx context.Context) error {
		var err error
		tip, files, err = g.w.Files(ctx, url, branch, dir)
		return gitAnswer(err)
	})
	return tip, files, err
}

func gitAnswer(err error) error {
	for _, e := range []error{gitops.ErrAuth, gitops.ErrRejected, gitops.ErrConflict, gitops.ErrBadChange} {
		if errors.Is(err, e) {
			return breaker.Neutral(err)
		}
	}
	return err
}

// breakerClient is an HTTP client whose calls go through dep's breakers.
func breakerClient(set *breaker.Set, dep breaker.Dependency, hc *http.Client, opts ...breaker.TransportOption) *http.Client {
	c := *hc
	c.Transport = set.Transport(dep, hc.Transport, opts...)
	return &c
}

// withBreakers adds dep's breakers to a component's health report: the
// worse status wins, and the breakers are under details.breakers.
func withBreakers(set *breaker.Set, dep breaker.Dependency, r health.Report) health.Report {
	br := set.Report(dep)
	r.Status = health.Worst(r.Status, br.Status)
	if r.Details == nil {
		r.Details = map[string]any{}
	}
	r.Details["breakers"] = br.Details
	if r.Error == "" && br.Error != "" {
		r.Error, r.LastError = br.Error, br.LastError
	}
	return r
}
