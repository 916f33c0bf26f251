package app

import (
	"context"

	"github.com/githedgehog/hnp-sidecar/internal/api"
	"github.com/githedgehog/hnp-sidecar/internal/breaker"
	"github.com/githedgehog/hnp-sidecar/internal/cluster"
	"github.com/githedgehog/hnp-sidecar/internal/health"
	"github.com/githedgehog/hnp-sidecar/internal/webhook"
)

// healthComponents are the entries of /api/v1/health, under the plan's
// names where it has one: signal_handlers is webhook_receiver,
// argocd_integration is argocd; git_sync and state_management as named.
func (a *App) healthComponents(recv *webhook.Receiver, withNetBox bool, breakers *breaker.Set) []api.Component {
	c := []api.Component{
		{Name: "webhook_receiver", Report: recv.Health},
		{Name: "queue", Report: a.stores.queue.Health},
		{Name: "state_management", Report: a.stores.states.Health},
		{Name: "git_sync", Report: func(context.Context) health.Report { return breakers.Report(breaker.Git) }},
	}
	if withNetBox {
		c = append(c, api.Component{Name: "netbox", Report: func(context.Context) health.Report { return breakers.Report(breaker.NetBox) }},
			// Fabrics that cannot be synced until someone fixes them in NetBox.
			api.Component{Name: "fabrics", Report: a.stores.problems.Health})
	}
	if a.pipe != nil {
		// Which replica writes which fabric; what the sidecar's NetBox
		// token cannot see.
		c = append(c, api.Component{Name: "leases", Report: a.pipe.leases.Health},
			api.Component{Name: "netbox_visibility", Report: visibilityHealth(a.pipe.visibility)})
	}
	if a.pipe != nil && a.pipe.rec != nil {
		// Whether states are shown on the plugin's HedgehogResources.
		rec := a.pipe.rec
		c = append(c, api.Component{Name: "netbox_resources", Report: func(context.Context) health.Report {
			return health.Report{Status: health.OK, Details: map[string]any{"gitops_resources": rec.ResourcesStatus()}}
		}})
	}
	if a.pipe != nil && a.pipe.argo != nil {
		argo := a.pipe.argo
		c = append(c, api.Component{Name: "argocd", Report: func(ctx context.Context) health.Report {
			return withBreakers(breakers, breaker.ArgoCD, argo.syncer.HealthReport(ctx))
		}})
		if argo.kube != nil {
			c = append(c, api.Component{Name: "kubernetes", Report: func(ctx context.Context) health.Report {
				return withBreakers(breakers, breaker.Kubernetes, cluster.Health(ctx, argo.kube))
			}})
		}
	}
	return c
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
