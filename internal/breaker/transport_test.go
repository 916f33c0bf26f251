package breaker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// Through the transport: 5xx and refused connections count, 4xx do not;
// the caller sees every answer unchanged; once open, nothing is sent.
func TestTransport(t *testing.T) {
	var status atomic.Int64
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(int(status.Load()))
		_, _ = io.WriteString(w, "body")
	}))
	defer srv.Close()
	opts := DefaultOptions()
	opts.ConsecutiveFailures, opts.OpenTimeout = 3, time.Hour
	set, err := NewSet(slog.New(slog.DiscardHandler), prometheus.NewRegistry(), opts)
	require.NoError(t, err)
	hc := &http.Client{Transport: set.Transport(NetBox, nil)}
	get := func() (int, error) {
		resp, err := hc.Get(srv.URL + "/api/")
		if err != nil {
			return 0, err
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		require.Equal(t, "body", string(b))
		return resp.StatusCode, nil
	}

	status.Store(http.StatusBadRequest)
	for range 5 {
		code, err := get()
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, code)
	}
	require.Equal(t, Closed, set.Get(NetBox, srv.URL).State(), "4xx: the remote is up")

	status.Store(http.StatusBadGateway)
	for range 3 {
		code, err := get()
		require.NoError(t, err, "the caller sees the 502 itself")
		require.Equal(t, http.StatusBadGateway, code)
	}
	require.Equal(t, Open, set.Get(NetBox, srv.URL).State())
	before := hits.Load()
	_, err = get()
	require.ErrorIs(t, err, ErrOpen)
	require.True(t, errors.Is(err, ErrOpen))
	require.Equal(t, before, hits.Load(), "nothing is sent while open")
}

// The failure that opens a breaker, and a failed half-open probe, say the
// dependency is unavailable (a queue then does not count them); the ones
// before do not.
func TestTrippingFailureIsUnavailable(t *testing.T) {
	opts := DefaultOptions()
	opts.ConsecutiveFailures, opts.OpenTimeout = 2, 20*time.Millisecond
	set, err := NewSet(slog.New(slog.DiscardHandler), prometheus.NewRegistry(), opts)
	require.NoError(t, err)
	b := set.Get(Git, "https://git.example.com/f.git")
	down := errors.New("connection refused")
	fail := func(context.Context) error { return down }
	type unavailable interface{ UnavailableFor() time.Duration }
	var u unavailable

	err = b.Do(t.Context(), fail)
	require.Equal(t, down, err, "first failure: the breaker is still closed")
	err = b.Do(t.Context(), fail)
	require.ErrorIs(t, err, down)
	require.ErrorAs(t, err, &u, "the failure that opened it")
	require.Positive(t, u.UnavailableFor())
	require.False(t, errors.Is(err, ErrOpen), "it did reach the remote")

	require.Eventually(t, func() bool { return b.State() == HalfOpen }, time.Second, 5*time.Millisecond)
	err = b.Do(t.Context(), fail)
	require.ErrorAs(t, err, &u, "a failed probe")
}

// A 5xx the judge calls a refusal of the request (a database constraint)
// does not count, and the caller still reads the whole body; other 5xx do.
func TestTransportNeutralAnswer(t *testing.T) {
	var body atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, body.Load().(string))
	}))
	defer srv.Close()
	opts := DefaultOptions()
	opts.ConsecutiveFailures, opts.OpenTimeout = 2, time.Hour
	set, err := NewSet(slog.New(slog.DiscardHandler), prometheus.NewRegistry(), opts)
	require.NoError(t, err)
	judge := func(status int, b []byte) bool { return status == 500 && string(b[:10]) == "constraint" }
	hc := &http.Client{Transport: set.Transport(NetBox, nil, NeutralAnswer(judge))}
	long := "constraint" + string(make([]byte, 3*peekBytes))
	for _, tc := range []struct {
		body string
		want State
	}{{long, Closed}, {long, Closed}, {long, Closed}, {"crash", Closed}, {"crash", Open}} {
		body.Store(tc.body)
		resp, err := hc.Get(srv.URL)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		require.Equal(t, tc.body, string(b), "the caller reads the whole body")
		require.Equal(t, tc.want, set.Get(NetBox, srv.URL).State())
	}
}
