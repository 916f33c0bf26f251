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
	// Sized by the declared length when there is one (NetBox sends it):
	// one allocation instead of io.ReadAll's growing from 512 bytes.
	size := int64(512)
	if r.ContentLength > 0 {
		size = r.ContentLength + 1 // +1: room to see EOF without growing
	}
	body, lr := make([]byte, 0, size), io.LimitReader(r.Body, max+1)
	for {
		if len(body) == cap(body) {
			body = append(body, 0)[:len(body)]
		}
		n, err := lr.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("webhook: read body: %w", err)
		}
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("%w: limit %d bytes", ErrTooLarge, max)
	}
	return body, nil
}
