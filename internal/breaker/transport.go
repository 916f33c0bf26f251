package breaker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// statusError is an HTTP answer that says the remote is not well: 5xx.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d", e.code) }

// TransportOption changes how a Transport judges answers.
type TransportOption func(*transport)

// peekBytes is how much of a 5xx body a NeutralAnswer judge sees.
const peekBytes = 16 << 10

// NeutralAnswer has the transport ask judge about every 5xx answer, with
// the start of its body: true means the remote is up and refused the
// request itself (a database constraint, say), which does not count
// against it. The caller still reads the whole body.
func NeutralAnswer(judge func(status int, body []byte) bool) TransportOption {
	return func(t *transport) { t.neutral = judge }
}

// Transport returns an http.RoundTripper that sends each request through
// the breaker of dep and the request's host: a transport error or a 5xx
// answer is a failure; any other answer (4xx included: the remote is up)
// a success. While the breaker is open the request is not sent and the
// *OpenError comes back (wrapped in the client's *url.Error). The answer,
// 5xx included, reaches the caller unchanged.
func (s *Set) Transport(dep Dependency, next http.RoundTripper, opts ...TransportOption) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	t := &transport{set: s, dep: dep, next: next}
	for _, o := range opts {
		o(t)
	}
	return t
}

type transport struct {
	set     *Set
	dep     Dependency
	next    http.RoundTripper
	neutral func(status int, body []byte) bool
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var resp *http.Response
	err := t.set.Get(t.dep, req.URL.Scheme+"://"+req.URL.Host).Do(req.Context(), func(context.Context) error {
		var err error
		if resp, err = t.next.RoundTrip(req); err != nil {
			return err
		}
		if resp.StatusCode >= 500 {
			if t.neutral != nil && t.neutral(resp.StatusCode, peek(resp)) {
				return nil
			}
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

// peek reads the start of resp's body and puts it back in front of the rest.
func peek(resp *http.Response) []byte {
	head, _ := io.ReadAll(io.LimitReader(resp.Body, peekBytes))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	return head
}
