package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
	"k8s.io/client-go/rest"

	"github.com/githedgehog/hnp-sidecar/internal/breaker"
	"github.com/githedgehog/hnp-sidecar/internal/kube"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/reconcile"
)

// driftClusters is where drift detection looks when a fabric names no
// cluster in NetBox: the Argo CD driver's API server, else HNP_KUBECONFIG,
// else the pod's own cluster, else nowhere.
func driftClusters(cfg Config, argo *argoParts, breakers *breaker.Set, logger *slog.Logger) *kube.Clusters {
	var def *rest.Config
	switch {
	case argo != nil && argo.kube != nil:
		def = argo.kube
	case cfg.Argo.Kubeconfig != "":
		rc, err := kubeConfig(cfg.Argo.Kubeconfig)
		if err != nil {
			logger.Warn("drift detection: HNP_KUBECONFIG not usable; only fabrics with kubernetes_server in NetBox are checked", "err", err)
		}
		def = rc
	case os.Getenv("KUBERNETES_SERVICE_HOST") != "":
		if rc, err := rest.InClusterConfig(); err == nil {
			def = rc
		}
	}
	return kube.NewClusters(def, func(rt http.RoundTripper) http.RoundTripper {
		return breakers.Transport(breaker.Kubernetes, rt)
	})
}

// detectDrift compares one fabric's live CRs with Git now and answers the
// report: drifted objects with their diff, orphans, switch agents.
func (a *App) detectDrift(c echo.Context) error {
	if a.drift == nil {
		return c.JSON(http.StatusConflict, map[string]string{"error": "drift detection needs NetBox (HNP_NETBOX_URL)"})
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Minute)
	defer cancel()
	id, err := a.fabricID(ctx, c.Param("id"))
	if err != nil {
		return a.fabricLookupError(c, err)
	}
	rep, err := a.drift.Check(ctx, id)
	switch {
	case err == nil:
		return c.JSON(http.StatusOK, rep)
	case errors.Is(err, kube.ErrNoCluster), errors.Is(err, reconcile.ErrFabricConfig):
		return c.JSON(http.StatusConflict, rep)
	case errors.Is(err, netbox.ErrNotFound):
		return c.JSON(http.StatusNotFound, rep)
	}
	return c.JSON(http.StatusBadGateway, rep)
}

// lastDrift answers the fabric's latest drift report.
func (a *App) lastDrift(c echo.Context) error {
	if a.drift == nil {
		return c.JSON(http.StatusNotFound, map[string]string{"error": "drift detection needs NetBox (HNP_NETBOX_URL)"})
	}
	id, err := a.fabricID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return a.fabricLookupError(c, err)
	}
	rep, ok := a.drift.Last(id)
	if !ok {
		return c.JSON(http.StatusNotFound, map[string]string{"error": "no drift check of this fabric yet: POST to run one"})
	}
	return c.JSON(http.StatusOK, rep)
}

// fabricLookupError answers a failed fabricID: 404 or 502.
func (a *App) fabricLookupError(c echo.Context, err error) error {
	if errors.Is(err, netbox.ErrNotFound) {
		return c.JSON(http.StatusNotFound, map[string]string{"error": "no fabric " + c.Param("id") + " in NetBox"})
	}
	a.logger.Error("reading the fabric failed", "fabric", c.Param("id"), "err", err)
	return c.JSON(http.StatusBadGateway, map[string]string{"error": "NetBox could not be read"})
}
