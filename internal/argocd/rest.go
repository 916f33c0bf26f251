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
	"reflect"
	"strings"
)

var (
	_ Driver = (*REST)(nil)
	_ Driver = (*Kube)(nil)
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

// EnsureRepository creates the repository in Argo CD. One that exists
// with other settings is not overwritten (no upsert: Argo CD's API does not
// say whose a repository is): ErrForeignRepository.
func (c *REST) EnsureRepository(ctx context.Context, _ string, r Repository) error {
	body := map[string]any{"repo": r.URL, "type": "git", "username": r.Username, "password": r.Password, "sshPrivateKey": r.SSHPrivateKey}
	err := c.do(ctx, http.MethodPost, "/api/v1/repositories", body, nil)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status < 500 && strings.Contains(ae.Message, "existing repository spec is different") {
		err = fmt.Errorf("%w: it has other settings or credentials and is left untouched (update or delete it in Argo CD)", ErrForeignRepository)
	}
	if err != nil {
		return fmt.Errorf("argocd: repository %s: %w", redact(r.URL), err)
	}
	return nil
}

// EnsureProject creates the AppProject, or updates it when it is the
// sidecar's (labelled so), conditionally on the resourceVersion read;
// ErrForeignProject otherwise.
func (c *REST) EnsureProject(ctx context.Context, p Project) error {
	path := "/api/v1/projects/" + url.PathEscape(p.Name)
	for try := 0; ; try++ {
		var cur map[string]any
		err := c.do(ctx, http.MethodGet, path, nil, &cur)
		if errors.Is(err, ErrNotFound) {
			err = c.do(ctx, http.MethodPost, "/api/v1/projects", map[string]any{"project": p.Object()}, nil)
			if err != nil && strings.Contains(err.Error(), "already exists") && try < conflictRetries {
				continue
			}
		} else if err == nil {
			if err = projectOwned(p.Namespace, p.Name, labelsOf(cur)); err != nil {
				return err
			}
			labels := map[string]any{LabelManagedBy: ManagedBy}
			spec := p.spec()
			if sameLabels(cur, labels) && sameFields(cur, "spec", spec) {
				return nil
			}
			setLabels(cur, labels)
			s, _ := cur["spec"].(map[string]any)
			if s == nil {
				s = map[string]any{}
			}
			for k, v := range spec {
				s[k] = v
			}
			cur["spec"] = s
			// cur carries metadata.resourceVersion: a concurrent change
			// makes the update fail instead of being overwritten.
			err = c.do(ctx, http.MethodPut, path, map[string]any{"project": cur}, nil)
			if isConflict(err) && try < conflictRetries {
				continue
			}
		}
		if err != nil {
			return fmt.Errorf("argocd: project %s: %w", p.Name, err)
		}
		return nil
	}
}

// EnsureApplication creates the Application (Argo CD validates it), or
// updates it when it is a.FabricID's (labelled so); any other is left
// alone: ErrForeignApplication. argocd-server's update re-reads the
// Application itself, so the check and the update are two calls: an
// Application relabelled in between by someone with rights to do so is
// the one race left.
func (c *REST) EnsureApplication(ctx context.Context, a App) error {
	obj := a.Object()
	var cur map[string]any
	err := c.do(ctx, http.MethodGet, appPath(a.Namespace, a.Name, "", nil), nil, &cur)
	switch {
	case errors.Is(err, ErrNotFound):
		// No upsert: an Application created meanwhile makes this fail.
		err = c.do(ctx, http.MethodPost, "/api/v1/applications", obj, nil)
	case err == nil:
		if err := ownedBy(a.Namespace, a.Name, labelsOf(cur), a.FabricID); err != nil {
			return err
		}
		labels, _ := get(obj, "metadata", "labels").(map[string]any)
		if sameLabels(cur, labels) && reflect.DeepEqual(cur["spec"], jsonValue(obj["spec"])) {
			return nil
		}
		if rv := str(cur, "metadata", "resourceVersion"); rv != "" {
			obj["metadata"].(map[string]any)["resourceVersion"] = rv
		}
		err = c.do(ctx, http.MethodPut, appPath(a.Namespace, a.Name, "", url.Values{"validate": {"true"}}), obj, nil)
	}
	if err != nil {
		return wrap("apply application", a.Namespace, a.Name, err)
	}
	return nil
}

// isConflict reports whether err is argocd-server's answer to an update
// that lost a race.
func isConflict(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && (ae.Status == http.StatusConflict ||
		strings.Contains(ae.Message, "the object has been modified"))
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
