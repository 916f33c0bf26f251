package netbox

import (
	"io"
	"net/http"
	"strconv"
	"time"
)

// NetBox (or a proxy in front of it) answers 429 Too Many Requests with a
// Retry-After when it wants fewer calls. The client waits as told and asks
// again, a few times, instead of failing the run and retrying the whole
// reconcile: a bounded wait, cut short by the request's context.
const (
	retryAfterAttempts = 3
	// retryAfterMax caps one wait: a longer one fails the call (the queue
	// retries the work later) rather than hold a worker.
	retryAfterMax = 30 * time.Second
	// retryAfterDefault is the wait of a 429 without a usable Retry-After.
	retryAfterDefault = time.Second
)

// retryAfter is a RoundTripper that honours 429 + Retry-After.
type retryAfter struct {
	next http.RoundTripper
	now  func() time.Time
}

func (t retryAfter) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		resp, err := t.next.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests || attempt == retryAfterAttempts {
			return resp, err
		}
		wait, ok := parseRetryAfter(resp.Header.Get("Retry-After"), t.now())
		if !ok || wait > retryAfterMax {
			return resp, nil // the caller sees the 429
		}
		if req.Body != nil && req.GetBody == nil {
			return resp, nil // the body cannot be sent again
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		timer := time.NewTimer(wait)
		select {
		case <-req.Context().Done():
			timer.Stop()
			return nil, req.Context().Err()
		case <-timer.C:
		}
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
	}
}

// parseRetryAfter reads Retry-After: delay-seconds or an HTTP date; an
// empty one is retryAfterDefault, a malformed one is not usable.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return retryAfterDefault, true
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return min(time.Duration(n)*time.Second, retryAfterMax+time.Second), true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// withRetryAfter is hc with a transport that honours 429 + Retry-After; hc
// itself is not changed.
func withRetryAfter(hc *http.Client) *http.Client {
	c := *hc
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = retryAfter{next: next, now: time.Now}
	return &c
}
