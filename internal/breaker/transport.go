package breaker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// statusError is an HTTP answer that says the remote is not well: 5xx.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d", e.code) }

// Transport returns an http.RoundTripper that sends each request through
// the breaker of dep and the request's host: a transport error or a 5xx
// answer is a failure; any other answer (4xx included: the remote is up)
// a success. While the breaker is open the request is not sent and the
// *OpenError comes back (wrapped in the client's *url.Error). The answer,
// 5xx included, reaches the caller unchanged.
func (s *Set) Transport(dep Dependency, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{set: s, dep: dep, next: next}
}

type transport struct {
	set  *Set
	dep  Dependency
	next http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var resp *http.Response
	err := t.set.Get(t.dep, req.URL.Scheme+"://"+req.URL.Host).Do(req.Context(), func(context.Context) error {
		var err error
		if resp, err = t.next.RoundTrip(req); err != nil {
			return err
		}
		if resp.StatusCode >= 500 {
			return &statusError{code: resp.StatusCode}
		}
		return nil
	})
	var se *statusError
	switch {
	case err == nil, errors.As(err, &se) && resp != nil:
		return resp, nil
	case resp != nil:
		_ = resp.Body.Close()
	}
	return nil, err
}
