package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/queue"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

type fakeQueue struct {
	mu    sync.Mutex
	hints []queue.Hint
	err   error
}

func (f *fakeQueue) Enqueue(_ context.Context, h queue.Hint) (queue.EnqueueResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	f.hints = append(f.hints, h)
	return queue.Queued, nil
}

var secret = []byte("0123456789abcdef-test-secret")

func newTestReceiver(t *testing.T, q Enqueuer, sec []byte) (*echo.Echo, *Receiver) {
	t.Helper()
	r, err := New(Options{Secret: sec, MaxBodyBytes: 1 << 20}, q, slog.New(slog.NewJSONHandler(io.Discard, nil)), prometheus.NewRegistry())
	require.NoError(t, err)
	e := echo.New()
	e.POST("/webhooks/netbox", r.Handle)
	return e, r
}

func post(e *echo.Echo, body []byte, sig string) (*httptest.ResponseRecorder, Response) {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/netbox", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(SignatureHeader, sig)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	var resp Response
	_ = json.Unmarshal(rec.Body.Bytes(), &resp)
	return rec, resp
}

func sample(t testing.TB, version string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../webhooks/samples/netbox-" + version + "/updated.json")
	require.NoError(t, err)
	return b
}

func TestReceiverAnswers(t *testing.T) {
	good := sample(t, "4.7")
	big := append([]byte(`{"event":"created","model":"vpc","data":{"id":1,"x":"`), bytes.Repeat([]byte("a"), 2<<20)...)
	unknown := []byte(`{"event":"created","object_type":"dcim.device","data":{"id":1}}`)
	tests := []struct {
		name   string
		body   []byte
		sig    string
		status int
		queued int
		result string
	}{
		{"signed sample", good, Sign(secret, good), 202, 1, "accepted"},
		{"wrong signature", good, Sign([]byte("wrong"), good), 401, 0, "unauthorized"},
		{"missing signature", good, "", 401, 0, "unauthorized"},
		{"signature of other body", good, Sign(secret, append(good, ' ')), 401, 0, "unauthorized"},
		{"2 MB body", big, Sign(secret, big), 413, 0, "too_large"},
		{"brace", []byte("{"), Sign(secret, []byte("{")), 400, 0, "malformed"},
		{"unknown object type", unknown, Sign(secret, unknown), 202, 0, "ignored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &fakeQueue{}
			e, r := newTestReceiver(t, q, secret)
			rec, resp := post(e, tt.body, tt.sig)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			require.Len(t, q.hints, tt.queued)
			require.Equal(t, "application/json", strings.Split(rec.Header().Get("Content-Type"), ";")[0])
			require.InDelta(t, 1, testutil.ToFloat64(r.metrics.received.WithLabelValues(tt.result)), 0)
			if tt.status >= 400 {
				require.NotEmpty(t, resp.Error)
				h := r.Health(context.Background())
				require.Equal(t, "ok", string(h.Status), "a stranger's bad request does not degrade health")
				if tt.result == "unauthorized" {
					require.EqualValues(t, 1, h.Details["refused_signatures"])
				}
			}
			if tt.result == "ignored" {
				require.Equal(t, "dcim.device", resp.Ignored)
			}
		})
	}
}

// Rotating the secret: with the old one as PreviousSecret, webhooks signed
// with either are accepted; without it, only the new one.
func TestReceiverAcceptsPreviousSecretDuringRotation(t *testing.T) {
	good := sample(t, "4.7")
	old, cur := []byte("old-secret-0123456789"), []byte("new-secret-0123456789")
	for _, tc := range []struct {
		name     string
		previous []byte
		signWith []byte
		status   int
	}{
		{"new secret", old, cur, 202},
		{"previous secret during rotation", old, old, 202},
		{"previous secret after rotation", nil, old, 401},
		{"neither", old, []byte("other-secret-0123456789"), 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(Options{Secret: cur, PreviousSecret: tc.previous, MaxBodyBytes: 1 << 20}, &fakeQueue{},
				slog.New(slog.DiscardHandler), prometheus.NewRegistry())
			require.NoError(t, err)
			e := echo.New()
			e.POST("/webhooks/netbox", r.Handle)
			rec, _ := post(e, good, Sign(tc.signWith, good))
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
		})
	}
}

func TestReceiverRecordsHint(t *testing.T) {
	handMade := struct{ key, user, requestID, lastUpdated string }{
		"netbox_hedgehog.vpc:12", "alice", "6d1b5c1e-7f0a-4b8e-9a57-3c2e1f0d9b11", "2026-11-25T10:00:00.123456Z"}
	tests := map[string]struct{ key, user, requestID, lastUpdated string }{
		"4.3": handMade, "4.4": handMade, "4.5": handMade, "4.6": handMade,
		// Captured from NetBox 4.7.3 (test/netbox/smoke.sh).
		"4.7": {"netbox_hedgehog.vpc:4", "hnp-sidecar", "8462c92d-1414-4b13-b10b-368ed1d25148", "2026-11-25T18:03:57.817601Z"},
	}
	for v, want := range tests {
		t.Run(v, func(t *testing.T) {
			q := &fakeQueue{}
			e, _ := newTestReceiver(t, q, secret)
			body := sample(t, v)
			rec, resp := post(e, body, Sign(secret, body))
			require.Equal(t, 202, rec.Code)
			require.Equal(t, want.key, resp.Key)
			require.Len(t, q.hints, 1)
			h := q.hints[0]
			require.Equal(t, "VPC", h.Kind)
			require.Equal(t, "netbox_hedgehog.vpc", h.ObjectType)
			require.Equal(t, "updated", h.Event)
			require.Equal(t, want.user, h.User)
			require.Equal(t, want.requestID, h.RequestID)
			require.Equal(t, want.lastUpdated, h.LastUpdated)
			require.Positive(t, h.Fabric)
		})
	}
}

// Bodies and signatures exactly as NetBox 4.7.3 sent them verify.
func TestRealNetBoxSignatures(t *testing.T) {
	f, err := os.ReadFile("../../webhooks/samples/netbox-4.7/signed.jsonl")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(f)), "\n")
	require.NotEmpty(t, lines)
	for _, l := range lines {
		var c struct{ Secret, Signature, Body string }
		require.NoError(t, json.Unmarshal([]byte(l), &c))
		require.NoError(t, Verify([]byte(c.Secret), []byte(c.Body), c.Signature))
		p, err := Parse([]byte(c.Body))
		require.NoError(t, err)
		require.Equal(t, "hnp-sidecar", p.User)
	}
}

// A delete's hint carries what is read of it (kind, id, fabric), not the
// object's fields: nothing reads them, and they may be up to the body limit.
func TestReceiverStoresOnlyWhatIsRead(t *testing.T) {
	q := &fakeQueue{}
	e, _ := newTestReceiver(t, q, secret)
	body := []byte(`{"event":"deleted","object_type":"netbox_hedgehog.connection","data":{"id":4,"fabric":2,"name":"c1","spec":{"unbundled":{"pad":"` +
		strings.Repeat("x", 200<<10) + `"}}}}`)
	rec, _ := post(e, body, Sign(secret, body))
	require.Equal(t, 202, rec.Code)
	raw, err := json.Marshal(q.hints[0])
	require.NoError(t, err)
	require.Less(t, len(raw), 512, "the stored hint: %s", raw)
	require.NotContains(t, string(raw), "unbundled")
	require.Equal(t, int64(2), q.hints[0].Fabric)
}

func TestReceiverUnsignedMode(t *testing.T) {
	q := &fakeQueue{}
	e, _ := newTestReceiver(t, q, nil)
	rec, _ := post(e, sample(t, "4.5"), "")
	require.Equal(t, 202, rec.Code)
	require.Len(t, q.hints, 1)
}

func TestReceiverQueueDown(t *testing.T) {
	q := &fakeQueue{err: errors.New("dial tcp: connection refused")}
	e, r := newTestReceiver(t, q, secret)
	body := sample(t, "4.7")
	rec, resp := post(e, body, Sign(secret, body))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.NotContains(t, resp.Error, "connection refused", "internal errors stay in the log")
	require.Equal(t, "degraded", string(r.Health(context.Background()).Status))
}

func TestReceiverWithRealRedis(t *testing.T) {
	srv := redisenv.Start(t)
	q, err := queue.New(srv.Client(t), queue.DefaultOptions(), slog.New(slog.NewJSONHandler(io.Discard, nil)), prometheus.NewRegistry())
	require.NoError(t, err)
	e, _ := newTestReceiver(t, q, secret)
	body := sample(t, "4.7")
	rec, resp := post(e, body, Sign(secret, body))
	require.Equal(t, 202, rec.Code)
	require.Equal(t, "queued", resp.Result)
	rec, resp = post(e, body, Sign(secret, body))
	require.Equal(t, 202, rec.Code)
	require.Equal(t, "coalesced", resp.Result)
	rec, _ = post(e, body, "00"+Sign(secret, body)[2:])
	require.Equal(t, 401, rec.Code)
	s, err := q.Stats(context.Background())
	require.NoError(t, err)
	require.Equal(t, int64(1), s.Waiting)
}

// The accept answer, encoded by hand, is byte for byte what c.JSON writes.
func TestAcceptedJSONMatchesEncodingJSON(t *testing.T) {
	for _, resp := range []Response{{Key: "netbox_hedgehog.vpc:12", Result: "queued"}, {Key: "vpc:1", Result: "deferred"}} {
		b, ok := acceptedJSON(resp)
		require.True(t, ok)
		want, err := json.Marshal(resp)
		require.NoError(t, err)
		require.Equal(t, string(want)+"\n", string(b))
	}
	for _, resp := range []Response{{Key: `a"b:1`, Result: "queued"}, {Key: "a<b:1", Result: "queued"}, {Ignored: "x", Reason: "y"}, {Key: "k:1", Result: "queued", Error: "e"}} {
		_, ok := acceptedJSON(resp)
		require.False(t, ok, "%+v", resp)
	}
}
