package argocd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// REST drives Argo CD through argocd-server's REST API.
type REST struct {
	base  string
	token string
	http  *http.Client
}

// NewREST builds a REST driver for argocd-server at base (e.g.
// https://argocd.example.com) with an API token; hc nil means
// http.DefaultClient.
func NewREST(base, token string, hc *http.Client) (*REST, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("argocd: %q is not an http(s) URL", base)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &REST{base: strings.TrimRight(base, "/"), token: token, http: hc}, nil
}

// apiError is a non-2xx answer of argocd-server.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message) }

func (c *REST) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json") // else 415
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Message string `json:"message"`
			Error   string `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		msg := e.Message
		if msg == "" {
			msg = e.Error
		}
		if msg == "" {
			msg = strings.TrimSpace(string(raw[:min(len(raw), 512)]))
		}
		if strings.Contains(msg, "another operation is already in progress") {
			return ErrBusy
		}
		if resp.StatusCode == http.StatusNotFound || (resp.StatusCode == http.StatusForbidden && strings.Contains(msg, "permission denied")) {
			// argocd-server answers 403 for an Application that does not
			// exist, not to reveal which do.
			return fmt.Errorf("%w: %s", ErrNotFound, msg)
		}
		return &apiError{Status: resp.StatusCode, Message: msg}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
	}
	return nil
}

func appPath(ns, name, suffix string, q url.Values) string {
	if q == nil {
		q = url.Values{}
	}
	if ns != "" {
		q.Set("appNamespace", ns)
	}
	return "/api/v1/applications/" + url.PathEscape(name) + suffix + "?" + q.Encode()
}

// EnsureRepository creates or updates the repository (upsert).
func (c *REST) EnsureRepository(ctx context.Context, _ string, r Repository) error {
	body := map[string]any{"repo": r.URL, "type": "git", "username": r.Username, "password": r.Password, "sshPrivateKey": r.SSHPrivateKey}
	if err := c.do(ctx, http.MethodPost, "/api/v1/repositories?upsert=true", body, nil); err != nil {
		return fmt.Errorf("argocd: repository %s: %w", redact(r.URL), err)
	}
	return nil
}

// EnsureApplication creates or updates the Application (upsert).
func (c *REST) EnsureApplication(ctx context.Context, a App) error {
	if err := c.do(ctx, http.MethodPost, "/api/v1/applications?upsert=true&validate=false", a.Object(), nil); err != nil {
		return wrap("apply application", a.Namespace, a.Name, err)
	}
	return nil
}

// Refresh asks for a normal refresh; the call returns once Argo CD has
// compared the Application again.
func (c *REST) Refresh(ctx context.Context, ns, name string) error {
	if err := c.do(ctx, http.MethodGet, appPath(ns, name, "", url.Values{"refresh": {"normal"}}), nil, nil); err != nil {
		return wrap("refresh", ns, name, err)
	}
	return nil
}

// Sync asks for a sync to revision. An Application with automated sync
// refuses a sync to a given revision ("auto-sync currently set to
// <branch>"): it is then synced to its target revision, which the refresh
// before resolved to the same commit.
func (c *REST) Sync(ctx context.Context, ns, name, revision string, prune bool) error {
	body := map[string]any{"revision": revision, "prune": prune, "appNamespace": ns,
		"syncOptions": map[string]any{"items": syncOptions()}}
	err := c.do(ctx, http.MethodPost, appPath(ns, name, "/sync", nil), body, nil)
	var ae *apiError
	if errors.As(err, &ae) && strings.Contains(ae.Message, "auto-sync currently set to") {
		delete(body, "revision")
		err = c.do(ctx, http.MethodPost, appPath(ns, name, "/sync", nil), body, nil)
	}
	if err == ErrBusy {
		return ErrBusy
	}
	if err != nil {
		return wrap("sync", ns, name, err)
	}
	return nil
}

// Status reads the Application.
func (c *REST) Status(ctx context.Context, ns, name string) (Status, error) {
	var obj map[string]any
	if err := c.do(ctx, http.MethodGet, appPath(ns, name, "", nil), nil, &obj); err != nil {
		return Status{}, wrap("get", ns, name, err)
	}
	return statusOf(obj), nil
}

// redact hides a password in a URL.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "[unparsable URL]"
	}
	return u.Redacted()
}
