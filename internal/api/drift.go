package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/githedgehog/hnp-sidecar/internal/cluster"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/reconcile"
)

// detectDrift compares one fabric's live CRs with Git now and answers the
// report: drifted objects with their diff, orphans, switch agents.
func (s *Server) detectDrift(c echo.Context) error {
	if s.Drift == nil {
		return c.JSON(http.StatusConflict, map[string]string{"error": "drift detection needs NetBox (HNP_NETBOX_URL)"})
	}
	// The check may take DriftTimeout; the answer must still be written
	// after it, whatever the server's WriteTimeout.
	_ = http.NewResponseController(c.Response().Writer).SetWriteDeadline(time.Now().Add(s.DriftTimeout + 10*time.Second))
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.DriftTimeout)
	defer cancel()
	id, err := s.fabricID(ctx, c.Param("id"))
	if err != nil {
		return s.fabricLookupError(c, err)
	}
	rep, err := s.Drift.Check(ctx, id)
	switch {
	case err == nil:
		return c.JSON(http.StatusOK, rep)
	case errors.Is(err, cluster.ErrNoCluster), errors.Is(err, reconcile.ErrFabricConfig):
		return c.JSON(http.StatusConflict, rep)
	case errors.Is(err, netbox.ErrNotFound):
		return c.JSON(http.StatusNotFound, rep)
	}
	return c.JSON(http.StatusBadGateway, rep)
}

// lastDrift answers the fabric's latest drift report.
func (s *Server) lastDrift(c echo.Context) error {
	if s.Drift == nil {
		return c.JSON(http.StatusNotFound, map[string]string{"error": "drift detection needs NetBox (HNP_NETBOX_URL)"})
	}
	id, err := s.fabricID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return s.fabricLookupError(c, err)
	}
	if err := s.may(c, opView, id); err != nil {
		return nil // answered
	}
	rep, ok, err := s.Drift.Last(c.Request().Context(), id)
	if err != nil {
		s.Logger.Error("reading the last drift report failed", "fabric", id, "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "the last drift report could not be read (Redis)"})
	}
	if !ok {
		return c.JSON(http.StatusNotFound, map[string]string{"error": "no drift check of this fabric yet: POST to run one"})
	}
	return c.JSON(http.StatusOK, rep)
}

// fabricLookupError answers a failed fabricID: 404 or 502.
func (s *Server) fabricLookupError(c echo.Context, err error) error {
	if errors.Is(err, netbox.ErrNotFound) {
		return c.JSON(http.StatusNotFound, map[string]string{"error": "no fabric " + c.Param("id") + " in NetBox"})
	}
	s.Logger.Error("reading the fabric failed", "fabric", c.Param("id"), "err", err)
	return c.JSON(http.StatusBadGateway, map[string]string{"error": "NetBox could not be read"})
}
