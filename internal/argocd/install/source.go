package install

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// readManifest reads and decodes the request's manifest.
func (in *Installer) readManifest(ctx context.Context, req Request, res *Result) ([]*unstructured.Unstructured, error) {
	src := cmp.Or(req.Source, DefaultManifest)
	res.Source = displaySource(src)
	if req.Manifest == nil && unpinned(src) {
		in.logger.Warn("argocd install: the manifest is not pinned to a release tag; the next install may bring another version",
			"source", res.Source)
	}
	data := req.Manifest
	if data == nil {
		var err error
		if data, err = in.readSource(ctx, src); err != nil {
			return nil, err
		}
	}
	if int64(len(data)) > in.opts.MaxManifestBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrBadManifest, res.Source, in.opts.MaxManifestBytes)
	}
	objs, err := decodeManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, res.Source)
	}
	in.logger.Info("argocd install: manifest read", "source", res.Source, "bytes", len(data), "objects", len(objs))
	return objs, nil
}

// decodeManifest splits multi-document YAML (or JSON) into objects,
// dropping empty documents and unwrapping kind: List.
func decodeManifest(data []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for doc := 1; ; doc++ {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("%w: document %d: %v", ErrBadManifest, doc, err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if !u.IsList() {
			out = append(out, u)
			continue
		}
		l, err := u.ToList()
		if err != nil {
			return nil, fmt.Errorf("%w: document %d: %v", ErrBadManifest, doc, err)
		}
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	}
}

// readSource reads a manifest from an http(s) URL or a file, at most
// MaxManifestBytes (+1, to tell that it is larger).
func (in *Installer) readSource(ctx context.Context, src string) ([]byte, error) {
	limit := in.opts.MaxManifestBytes + 1
	lower := strings.ToLower(src)
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		ctx, cancel := context.WithTimeout(ctx, in.opts.FetchTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return nil, fmt.Errorf("argocd install: manifest %s: %w", displaySource(src), err)
		}
		resp, err := in.opts.HTTPClient.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // its message repeats the URL, perhaps with a password
			}
			return nil, fmt.Errorf("argocd install: fetch manifest %s: %w", displaySource(src), err)
		}
		defer func() { _ = resp.Body.Close() }()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("argocd install: fetch manifest %s: HTTP %s", displaySource(src), resp.Status)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
		if err != nil {
			return nil, fmt.Errorf("argocd install: fetch manifest %s: %w", displaySource(src), err)
		}
		return b, nil
	case strings.HasPrefix(lower, "file://"):
		src = src[len("file://"):]
	case strings.Contains(src, "://"):
		return nil, fmt.Errorf("argocd install: manifest %s: not an http(s) URL or a file", displaySource(src))
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, fmt.Errorf("argocd install: manifest: %w", err)
	}
	defer func() { _ = f.Close() }()
	b, err := io.ReadAll(io.LimitReader(f, limit))
	if err != nil {
		return nil, fmt.Errorf("argocd install: manifest: %w", err)
	}
	return b, nil
}

// displaySource hides a URL's password and query (which may carry a token).
func displaySource(src string) string {
	u, err := url.Parse(src)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return src
	}
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.Redacted()
}

// unpinned reports whether an http(s) URL names a moving branch instead
// of a tag.
func unpinned(src string) bool {
	if !strings.HasPrefix(strings.ToLower(src), "http") {
		return false
	}
	for _, moving := range []string{"/stable/", "/master/", "/main/", "/latest/", "/HEAD/"} {
		if strings.Contains(src, moving) {
			return true
		}
	}
	return false
}
