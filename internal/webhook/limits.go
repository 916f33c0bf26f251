package webhook

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// DefaultMaxBodyBytes caps a webhook body. NetBox's largest bodies (a
// Connection with a big spec and both snapshots) are tens of kilobytes.
const DefaultMaxBodyBytes = 1 << 20

// ErrTooLarge is returned for a body over the cap.
var ErrTooLarge = errors.New("webhook: body too large")

// readBody reads at most max bytes of r's body. It refuses a declared
// Content-Length over the cap without reading it.
func readBody(r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, fmt.Errorf("%w: %d bytes declared, limit %d", ErrTooLarge, r.ContentLength, max)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("webhook: read body: %w", err)
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("%w: limit %d bytes", ErrTooLarge, max)
	}
	return body, nil
}
