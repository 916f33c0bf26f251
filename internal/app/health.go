package app

import (
	"context"

	"github.com/githedgehog/hnp-sidecar/internal/api"
	"github.com/githedgehog/hnp-sidecar/internal/breaker"
	"github.com/githedgehog/hnp-sidecar/internal/cluster"
	"github.com/githedgehog/hnp-sidecar/internal/health"
	"github.com/githedgehog/hnp-sidecar/internal/reconcile"
	"github.com/githedgehog/hnp-sidecar/internal/webhook"
)

// healthComponents are the entries of /api/v1/health, under the plan's
// names where it has one: signal_handlers is webhook_receiver,
// argocd_integration is argocd; git_sync and state_management as named.
// A component configured off is listed as {"status":"disabled"} (with
// the setting under details.reason), never left out, so a monitor tells
// "off" from "missing".
func (a *App) healthComponents(recv *webhook.Receiver, withNetBox bool, breakers *breaker.Set) []api.Component {
	c := []api.Component{
		{Name: "webhook_receiver", Report: recv.Health},
		{Name: "queue", Report: a.stores.queue.Health},
		{Name: "state_management", Report: a.stores.states.Health},
		{Name: "git_sync", Report: func(context.Context) health.Report { return breakers.Report(breaker.Git) }},
	}
	noNetBox := "no NetBox (HNP_NETBOX_URL is not set)"
	if withNetBox {
		c = append(c, api.Component{Name: "netbox", Report: func(context.Context) health.Report { return breakers.Report(breaker.NetBox) }},
			// Fabrics that cannot be synced until someone fixes them in NetBox.
			api.Component{Name: "fabrics", Report: a.stores.problems.Health})
	} else {
		c = append(c, off("netbox", noNetBox), off("fabrics", noNetBox))
	}
	if a.pipe != nil {
		// Which replica writes which fabric; what the sidecar's NetBox
		// token cannot see.
		c = append(c, api.Component{Name: "leases", Report: a.pipe.leases.Health},
			api.Component{Name: "netbox_visibility", Report: visibilityHealth(a.pipe.visibility)},
			a.driftHealth(breakers))
	} else {
		c = append(c, off("leases", noNetBox), off("netbox_visibility", noNetBox), off("drift", noNetBox))
	}
	c = append(c, a.resourcesHealth(noNetBox))
	return append(c, a.argoHealth(breakers)...)
}

// argoHealth is the argocd and kubernetes components: disabled without
// Argo CD; kubernetes, without the Kubernetes driver, shows the
// Kubernetes breakers once drift detection has called a cluster.
func (a *App) argoHealth(breakers *breaker.Set) []api.Component {
	if a.pipe == nil || a.pipe.argo == nil {
		return []api.Component{off("argocd", "Argo CD is off (HNP_ARGOCD_DRIVER)"),
			a.kubeHealth(breakers, "no Kubernetes driver and no cluster called yet")}
	}
	argo := a.pipe.argo
	c := []api.Component{{Name: "argocd", Report: func(ctx context.Context) health.Report {
		return withBreakers(breakers, breaker.ArgoCD, argo.syncer.HealthReport(ctx))
	}}}
	if argo.kube != nil {
		return append(c, api.Component{Name: "kubernetes", Report: func(ctx context.Context) health.Report {
			return withClusterBreakers(breakers, cluster.Health(ctx, argo.kube))
		}})
	}
	return append(c, a.kubeHealth(breakers, "the REST driver; no cluster called yet"))
}

// resourcesHealth is whether object states are shown on the plugin's
// HedgehogResources (gitops-resources/): disabled without NetBox or
// write-back, or when the plugin has no such endpoint.
func (a *App) resourcesHealth(noNetBox string) api.Component {
	if a.pipe == nil || a.pipe.rec == nil {
		return off("netbox_resources", noNetBox)
	}
	rec := a.pipe.rec
	return api.Component{Name: "netbox_resources", Report: func(context.Context) health.Report {
		switch st := rec.ResourcesStatus(); st {
		case reconcile.ResourcesNone:
			return health.Off("no write-back to NetBox (HNP_NETBOX_WRITEBACK=false)")
		case reconcile.ResourcesOff:
			r := health.Off("the plugin has no gitops-resources/ endpoint (HedgehogResource); asked again hourly")
			r.Details["gitops_resources"] = st
			return r
		default:
			r := health.Report{Status: health.OK, Details: map[string]any{"gitops_resources": st}}
			if n, one := rec.ResourcesRefused(); n > 0 {
				// Not an outage: the data; each is logged and not sent again.
				r.Status, r.Error = health.Degraded, one
				r.Details["refused"] = n
			}
			return r
		}
	}}
}

// kubeHealth reports the Kubernetes breakers (drift's calls to the
// fabrics' clusters), or disabled while there are none.
func (a *App) kubeHealth(breakers *breaker.Set, why string) api.Component {
	return api.Component{Name: "kubernetes", Report: func(context.Context) health.Report {
		r := breakers.Report(breaker.Kubernetes)
		if rs, _ := r.Details["remotes"].(map[string]health.Report); len(rs) == 0 {
			return health.Off(why)
		}
		return capped(r)
	}}
}

// driftHealth is drift detection: disabled when it only runs on demand
// (HNP_DRIFT_INTERVAL=0), else its setting with the Kubernetes breakers
// its checks go through.
func (a *App) driftHealth(breakers *breaker.Set) api.Component {
	every := a.cfg.DriftInterval
	return api.Component{Name: "drift", Report: func(context.Context) health.Report {
		if every <= 0 {
			return health.Off("periodic checks off (HNP_DRIFT_INTERVAL=0); on demand only")
		}
		return withClusterBreakers(breakers, health.Report{Status: health.OK, Details: map[string]any{"interval_seconds": every.Seconds()}})
	}}
}

// capped is a report of the Kubernetes breakers at worst degraded: they
// include the fabrics' own clusters, which NetBox names, and one of them
// down does not make the sidecar down (its fabric shows it).
func capped(r health.Report) health.Report {
	if r.Status == health.Down {
		r.Status = health.Degraded
	}
	return r
}

// withClusterBreakers is withBreakers for the Kubernetes breakers, capped.
func withClusterBreakers(set *breaker.Set, r health.Report) health.Report {
	return merged(r, capped(set.Report(breaker.Kubernetes)))
}

func off(name, why string) api.Component {
	return api.Component{Name: name, Report: func(context.Context) health.Report { return health.Off(why) }}
}

// withBreakers adds dep's breakers to a component's health report: the
// worse status wins, and the breakers are under details.breakers.
func withBreakers(set *breaker.Set, dep breaker.Dependency, r health.Report) health.Report {
	return merged(r, set.Report(dep))
}

// merged is r with the breakers' report br: the worse status wins, and the
// breakers are under details.breakers.
func merged(r, br health.Report) health.Report {
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
