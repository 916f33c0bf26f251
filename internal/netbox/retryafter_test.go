package netbox

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A NetBox (or a proxy before it) that answers 429 first: the client waits
// as Retry-After says and asks again, with the same body; a wait too long,
// or a third 429, reaches the caller.
func TestRetryAfterIsHonoured(t *testing.T) {
	for _, tc := range []struct {
		name       string
		answers    []int
		retryAfter string
		wantCalls  int
		wantErr    bool
	}{
		{"two 429 then ok", []int{429, 429, 200}, "0", 3, false},
		{"always 429", []int{429, 429, 429, 429}, "0", 3, true},
		{"wait too long", []int{429, 200}, "120", 1, true},
		{"malformed header", []int{429, 200}, "soon", 1, true},
		{"no 429", []int{200}, "", 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var bodies []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				n := len(bodies)
				bodies = append(bodies, string(b))
				mu.Unlock()
				if tc.answers[n] == 429 {
					w.Header().Set("Retry-After", tc.retryAfter)
					http.Error(w, `{"detail":"slow down"}`, http.StatusTooManyRequests)
					return
				}
				_, _ = w.Write([]byte(`{}`))
			}))
			t.Cleanup(srv.Close)
			c, err := New(Options{URL: srv.URL, Token: "0123456789abcdef0123456789abcdef01234567"})
			require.NoError(t, err)
			err = c.Do(context.Background(), http.MethodPatch, "/api/plugins/hedgehog/vpcs/1/", map[string]any{"name": "v"}, nil)
			if tc.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			require.Len(t, bodies, tc.wantCalls)
			for _, b := range bodies {
				require.JSONEq(t, `{"name":"v"}`, b, "the body is sent again")
			}
		})
	}
}

func TestRetryAfterWaitEndsWithTheContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "20")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{URL: srv.URL, Token: "0123456789abcdef0123456789abcdef01234567"})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	require.ErrorIs(t, c.Do(ctx, http.MethodGet, "/api/status/", nil, nil), context.DeadlineExceeded)
	require.Less(t, time.Since(start), 5*time.Second)
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", time.Second, true},
		{"3", 3 * time.Second, true},
		{"-1", 0, false},
		{"Mon, 07 Dec 2026 12:00:05 GMT", 5 * time.Second, true},
		{"Mon, 07 Dec 2026 11:00:00 GMT", 0, true},
		{"later", 0, false},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		require.Equal(t, tc.ok, ok, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}
