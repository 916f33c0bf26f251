package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/drift"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

type oneFabric struct{ NetBox }

func (oneFabric) GetFabric(context.Context, int64) (netbox.Fabric, error) {
	return netbox.Fabric{ID: 1, Name: "f"}, nil
}

type slowDrift struct{ took time.Duration }

func (d slowDrift) Check(ctx context.Context, _ int64) (drift.Report, error) {
	select {
	case <-time.After(d.took):
		return drift.Report{}, nil
	case <-ctx.Done():
		return drift.Report{}, ctx.Err()
	}
}

func (slowDrift) Last(context.Context, int64) (drift.Report, bool, error) {
	return drift.Report{}, false, nil
}

// The on-demand drift check answers after the server's WriteTimeout when
// it takes longer (before: the connection was cut, the client saw EOF).
func TestDriftOutlivesWriteTimeout(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := New(Parts{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), APIToken: config.Secret("tok-0123456789abcdef"),
		Metrics: reg, NetBox: oneFabric{}, Drift: slowDrift{took: 700 * time.Millisecond}, DriftTimeout: 2 * time.Second})
	hs := httptest.NewUnstartedServer(s.Handler())
	hs.Config.WriteTimeout = 200 * time.Millisecond
	hs.Start()
	t.Cleanup(hs.Close)
	req, _ := http.NewRequest(http.MethodPost, hs.URL+"/api/v1/fabrics/1/drift", nil)
	req.Header.Set("Authorization", "Bearer tok-0123456789abcdef")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "the answer came after the write timeout")
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
