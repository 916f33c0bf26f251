package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/dynamic"

	"github.com/githedgehog/hnp-sidecar/internal/cluster"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/drift"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

type gitOf struct{}

func (gitOf) Committed(context.Context, int64) (netbox.Fabric, string, map[string][]byte, error) {
	return netbox.Fabric{ID: 1, Name: "f"}, "c0ffee", nil, nil
}

type clusterless struct{}

func (clusterless) For(netbox.Fabric) (dynamic.Interface, string, error) {
	return nil, "", cluster.ErrNoCluster
}

// The last drift report is read from Redis: a replica that did not run
// the check answers it; Redis unreachable is 503, not "no check yet".
func TestLastDriftFromAnotherReplica(t *testing.T) {
	srv := redisenv.Start(t)
	rdb := srv.Client(t)
	st, err := state.New(rdb, state.Options{Prefix: "a"}, prometheus.NewRegistry())
	require.NoError(t, err)
	replica := func() *drift.Detector {
		d, err := drift.New(gitOf{}, st, clusterless{}, drift.Options{Redis: rdb, Prefix: "a"}, nil,
			slog.New(slog.DiscardHandler), prometheus.NewRegistry())
		require.NoError(t, err)
		return d
	}
	checked, err := replica().Check(context.Background(), 1)
	require.ErrorIs(t, err, cluster.ErrNoCluster)

	s := New(Parts{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), APIToken: config.Secret("tok-0123456789abcdef"),
		Metrics: prometheus.NewRegistry(), NetBox: oneFabric{}, Drift: replica()})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	get := func() (int, drift.Report) {
		req, _ := http.NewRequest(http.MethodGet, hs.URL+"/api/v1/fabrics/1/drift", nil)
		req.Header.Set("Authorization", "Bearer tok-0123456789abcdef")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer func() { _ = resp.Body.Close() }()
		var rep drift.Report
		_ = json.NewDecoder(resp.Body).Decode(&rep)
		return resp.StatusCode, rep
	}
	code, rep := get()
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, checked.CheckedAt, rep.CheckedAt)
	require.Equal(t, checked.Error, rep.Error)

	srv.Stop()
	code, _ = get()
	require.Equal(t, http.StatusServiceUnavailable, code)
}
