package webhook

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/githedgehog/hnp-sidecar/internal/queue"
)

// BenchmarkReceiver: one signed NetBox 4.7 update through the handler,
// with a queue that records nothing (the Redis part is test/bench/ingest's).
func BenchmarkReceiver(b *testing.B) {
	body := sample(b, "4.7")
	sig := Sign(secret, body)
	r, err := New(Options{Secret: secret}, nopQueue{}, slog.New(slog.NewJSONHandler(io.Discard, nil)), prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	e := echo.New()
	e.POST("/webhooks/netbox", r.Handle)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/netbox", bytes.NewReader(body))
		req.Header.Set(SignatureHeader, sig)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}

type nopQueue struct{}

func (nopQueue) Enqueue(context.Context, queue.Hint) (queue.EnqueueResult, error) {
	return queue.Queued, nil
}
