package api

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/githedgehog/hnp-sidecar/internal/jobs"
	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/reconcile"
)

// SyncResponse answers a re-sync request.
type SyncResponse struct {
	Job       jobs.Job `json:"job"`
	StatusURL string   `json:"status_url"`
	// AlreadyQueued: a re-sync of the fabric was waiting; this is it.
	AlreadyQueued bool `json:"already_queued,omitempty"`
}

// AllowDeletesParam, "true" on a sync request, lets that run remove more
// than HNP_MAX_DELETE_FRACTION of the fabric's files (the user confirmed
// the deletions: `hnp-sidecar resync --allow-deletes`).
const AllowDeletesParam = "allow_deletes"

// syncFabric queues a full reconcile of one fabric as a job:
// POST /api/v1/fabrics/{id}/sync, and the path the plugin's own sync
// button calls. A NetBox caller needs NetBox's change permission on the
// fabric. While a re-sync of the fabric waits, requests get that job back
// (one queued job and one queue entry per fabric).
func (s *Server) syncFabric(c echo.Context) error {
	if s.NetBox == nil {
		return c.JSON(http.StatusConflict, map[string]string{"error": "reconciling is off: set HNP_NETBOX_URL and HNP_NETBOX_TOKEN"})
	}
	ctx := c.Request().Context()
	id, err := s.fabricID(ctx, c.Param("id"))
	if errors.Is(err, netbox.ErrNotFound) {
		return c.JSON(http.StatusNotFound, map[string]string{"error": "no fabric " + c.Param("id") + " in NetBox"})
	} else if err != nil {
		s.Logger.Error("re-sync: reading the fabric failed", "fabric", c.Param("id"), "err", err)
		return c.JSON(http.StatusBadGateway, map[string]string{"error": "NetBox could not be read"})
	}
	allowDeletes, err := strconv.ParseBool(cmp.Or(c.QueryParam(AllowDeletesParam), "false"))
	if err != nil {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": AllowDeletesParam + " must be true or false"})
	}
	if err := s.may(c, opChange, id); err != nil {
		return nil // answered
	}
	job, created, err := s.Jobs.Resync(ctx, id)
	event := reconcile.EventResync
	if allowDeletes {
		event = reconcile.EventResyncAllowDeletes
	}
	// A confirmation joins a re-sync already queued: its hint rides along.
	if err == nil && (created || allowDeletes) {
		_, err = s.Queue.Enqueue(ctx, queue.Hint{ObjectType: kind.Fabric.ObjectType(), ObjectID: id, Kind: kind.Fabric.Name,
			Event: event, RequestID: reconcile.JobPrefix + job.ID})
		if errors.Is(err, queue.ErrNotReplicated) {
			s.Logger.Warn("re-sync recorded but not acknowledged by enough Redis replicas", "fabric_id", id, "err", err)
			err = nil // recorded on the primary: it runs
		}
		if err != nil {
			_ = s.Jobs.Update(ctx, job.ID, func(j *jobs.Job) { j.State, j.Error = jobs.Failed, "not queued: queue unavailable" })
		}
	}
	if err != nil {
		s.Logger.Error("re-sync not queued", "fabric_id", id, "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "queue unavailable"})
	}
	s.Logger.Info("re-sync queued", "fabric_id", id, "job", job.ID, "already_queued", !created, "allow_deletes", allowDeletes)
	return c.JSON(http.StatusAccepted, SyncResponse{Job: job, StatusURL: "/api/v1/jobs/" + job.ID, AlreadyQueued: !created})
}

// fabricID resolves a fabric given by id or by name.
func (s *Server) fabricID(ctx context.Context, ref string) (int64, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		if id <= 0 {
			return 0, netbox.ErrNotFound
		}
		_, err := s.NetBox.GetFabric(ctx, id)
		return id, err
	}
	fabrics, err := s.NetBox.ListFabrics(ctx)
	if err != nil {
		return 0, err
	}
	for _, f := range fabrics {
		if f.Name == ref {
			return f.ID, nil
		}
	}
	return 0, netbox.ErrNotFound
}

func (s *Server) getJob(c echo.Context) error {
	j, err := s.Jobs.Get(c.Request().Context(), c.Param("id"))
	switch {
	case errors.Is(err, jobs.ErrNotFound):
		return c.JSON(http.StatusNotFound, map[string]string{"error": "no such job (jobs are kept for a day)"})
	case err != nil:
		s.Logger.Error("reading job failed", "job", c.Param("id"), "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "job store unavailable"})
	}
	if who := callerOf(c); !who.own {
		// Reading a job needs view on its fabric; one may not see is
		// answered as no job at all.
		ok, err := s.permitted(c.Request().Context(), who, opView, j.Fabric)
		if err != nil {
			s.Logger.Error("NetBox permission could not be checked", "job", j.ID, "err", err)
			return c.JSON(http.StatusBadGateway, map[string]string{"error": "NetBox could not check the permission"})
		}
		if !ok {
			return c.JSON(http.StatusNotFound, map[string]string{"error": "no such job (jobs are kept for a day)"})
		}
	}
	return c.JSON(http.StatusOK, j)
}

// fabric reads a fabric given by id or name.
func (s *Server) fabric(ctx context.Context, ref string) (netbox.Fabric, error) {
	id, err := s.fabricID(ctx, ref)
	if err != nil {
		return netbox.Fabric{}, err
	}
	return s.NetBox.GetFabric(ctx, id)
}
