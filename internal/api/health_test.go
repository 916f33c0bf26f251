package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/health"
)

// upQueue is a queue whose Redis answers and whose workers run.
type upQueue struct{ Queue }

func (upQueue) Ping(context.Context) error { return nil }
func (upQueue) Running() bool              { return true }

func component(name string, s health.Status) Component {
	return Component{Name: name, Report: func(context.Context) health.Report { return health.Report{Status: s} }}
}

// The overall status is the worst component's, disabled worsening
// nothing; only down answers 503; /readyz (Redis and the workers) stays
// 200 whatever the dependencies say.
func TestHealthIsTheWorstComponent(t *testing.T) {
	cases := []struct {
		name     string
		statuses []health.Status
		want     health.Status
		code     int
	}{
		{"all ok", []health.Status{health.OK, health.OK}, health.OK, 200},
		{"configured off", []health.Status{health.OK, health.Disabled}, health.OK, 200},
		{"one degraded", []health.Status{health.OK, health.Degraded, health.Disabled}, health.Degraded, 200},
		{"one down", []health.Status{health.Degraded, health.Down, health.OK}, health.Down, 503},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var comps []Component
			for i, st := range c.statuses {
				comps = append(comps, component(string(rune('a'+i)), st))
			}
			s := New(Parts{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Queue: upQueue{}, Health: comps})
			h := s.Handler()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/health", nil))
			require.Equal(t, c.code, rec.Code)
			var resp HealthResponse
			require.NoError(t, json.NewDecoder(rec.Body).Decode(&resp))
			require.Equal(t, c.want, resp.Status)
			require.Len(t, resp.Components, len(c.statuses), "every component listed, disabled ones too")
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			require.Equal(t, http.StatusOK, rec.Code, "dependencies do not make the replica unready")
		})
	}
}
