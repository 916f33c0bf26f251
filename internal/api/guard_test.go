package api

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
)

func TestAnswersExpireAndStayBounded(t *testing.T) {
	now := time.Unix(0, 0)
	a := newAnswers[bool](30*time.Second, 100)
	a.now = func() time.Time { return now }
	k := sha256.Sum256([]byte("creds"))
	a.put(k, false)
	v, ok := a.get(k)
	require.True(t, ok, "a refusal is remembered")
	require.False(t, v)
	now = now.Add(31 * time.Second)
	_, ok = a.get(k)
	require.False(t, ok, "and forgotten after the ttl")
	for i := range 1000 {
		a.put(sha256.Sum256([]byte(fmt.Sprint(i))), true)
	}
	require.LessOrEqual(t, len(a.m), 100)
}

func TestLimiterAnswers429WithRetryAfter(t *testing.T) {
	l := newLimiter(1, 3)
	e := echo.New()
	cl := l.client("192.0.2.1")
	codes := []int{}
	var last *httptest.ResponseRecorder
	for range 5 {
		rec := httptest.NewRecorder()
		c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
		if l.allow(c, cl.requests, "requests") {
			codes = append(codes, 200)
		} else {
			codes = append(codes, rec.Code)
			last = rec
		}
	}
	require.Equal(t, []int{200, 200, 200, 429, 429}, codes)
	require.Equal(t, "1", last.Header().Get("Retry-After"))
	require.NotSame(t, cl, l.client("192.0.2.2"), "per address")
	for i := range 2 * maxClients {
		l.client(fmt.Sprint(i))
	}
	require.LessOrEqual(t, len(l.clients), maxClients)
}
