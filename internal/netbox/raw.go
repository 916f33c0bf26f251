package netbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/githedgehog/hnp-sidecar/internal/redact"
)

// PluginPath is the root of the Hedgehog plugin's REST API.
const PluginPath = "/api/plugins/hedgehog/"

// APIError is a non-2xx answer from NetBox.
type APIError struct {
	Method, Path string
	Status       int
	// Body is the answer's first 512 bytes; for a server error that names
	// its exception, "<exception>: <first line of the error>" instead (see
	// Answer).
	Body string
	// Exception is the Python exception a server error names (NetBox's
	// JSON for an error in an API view), e.g. "IntegrityError".
	Exception string
}

// maxErrorBody bounds how much of an error answer is read: a database
// error's JSON carries the whole failing row before its exception's name.
const maxErrorBody = 256 << 10

// newAPIError keeps what may be shown of an error answer. A database
// error's DETAIL line holds the whole failing row, secrets included
// (the plugin's fabric has tokens in clear), and is dropped here.
func newAPIError(method, path string, status int, raw []byte) *APIError {
	e := &APIError{Method: method, Path: path, Status: status}
	var se struct {
		Exception string `json:"exception"`
		Error     string `json:"error"`
	}
	switch {
	case status >= 500 && json.Unmarshal(raw, &se) == nil && se.Exception != "":
		first, _, _ := strings.Cut(se.Error, "\n")
		e.Exception, e.Body = se.Exception, strings.TrimSpace(se.Exception+": "+first)
	case status >= 500:
		// Not NetBox's JSON (or cut short): keep the first line of the text,
		// up to a JSON-escaped line break or a database error's DETAIL, with
		// anything that looks like a secret redacted.
		first, _, _ := strings.Cut(string(raw), "\n")
		first, _, _ = strings.Cut(first, `\n`)
		first, _, _ = strings.Cut(first, "DETAIL")
		e.Body = redact.Text(first)
	default:
		e.Body = string(raw)
	}
	if len(e.Body) > 512 {
		e.Body = e.Body[:512]
	}
	e.Body = strings.TrimSpace(e.Body)
	return e
}

func (e *APIError) Error() string {
	return fmt.Sprintf("netbox: %s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Answer())
}

// Answer is NetBox's answer, short enough for a log line or a journal
// entry, without a database error's failing row.
func (e *APIError) Answer() string { return e.Body }

// Unwrap makes a 404 match ErrNotFound.
func (e *APIError) Unwrap() error {
	if e.Status == http.StatusNotFound {
		return ErrNotFound
	}
	return ErrUnexpected
}

// Do sends a JSON request to path (relative to NetBox's base URL, e.g.
// PluginPath+"vpcs/") with the client's credentials, and decodes a JSON
// answer into out when out is not nil. Unknown fields are ignored.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	return c.do(ctx, method, path, in, out, nil)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any, header http.Header) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("netbox: encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+"/"+strings.TrimPrefix(path, "/"), body)
	if err != nil {
		return fmt.Errorf("netbox: %s %s: %w", method, path, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("netbox: %s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return newAPIError(method, path, resp.StatusCode, b)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("netbox: decode %s %s: %w", method, path, err)
	}
	return nil
}
