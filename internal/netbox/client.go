// Package netbox is the sidecar's NetBox client: go-netbox for NetBox's core
// endpoints, and the same base URL, HTTP client and credentials for the
// Hedgehog plugin's endpoints, which go-netbox does not know.
package netbox

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	gonetbox "github.com/netbox-community/go-netbox/v4"
)

// Errors of the NetBox domain.
var (
	ErrBadToken   = errors.New("netbox: token is neither a v1 token (40 hex characters) nor a v2 token (nbt_<key>.<secret>)")
	ErrBadURL     = errors.New("netbox: URL must be http(s)://host[:port][/path]")
	ErrNotFound   = errors.New("netbox: not found")
	ErrUnexpected = errors.New("netbox: unexpected answer")
)

var (
	v1Token = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)
	v2Token = regexp.MustCompile(`^nbt_[A-Za-z0-9]+\.[A-Za-z0-9_-]+$`)
)

// AuthHeader returns the Authorization header value for a NetBox token:
// "Token <v1>" or "Bearer nbt_<key>.<secret>".
func AuthHeader(token string) (string, error) {
	switch {
	case v1Token.MatchString(token):
		return "Token " + token, nil
	case v2Token.MatchString(token):
		return "Bearer " + token, nil
	}
	return "", ErrBadToken
}

// Options configure a Client.
type Options struct {
	// URL is NetBox's base URL, e.g. https://netbox.example.com.
	URL string
	// Token is a v1 or v2 NetBox API token.
	Token string
	// HTTPClient is used for every call; a client with a 30s timeout if nil.
	// A 429 with Retry-After is waited out and asked again (retryafter.go).
	HTTPClient *http.Client
	// CABundle is PEM CA certificates trusted for NetBox's HTTPS beside
	// the system's roots (HNP_NETBOX_CA_FILE), for the client New makes
	// when HTTPClient is nil; give HTTPClient a Transport(CABundle).
	CABundle  []byte
	UserAgent string
	// PageSize is the limit of each list request; 1000 when zero.
	PageSize int
}

// Client talks to one NetBox.
type Client struct {
	api      *gonetbox.APIClient
	base     *url.URL
	auth     string
	http     *http.Client
	ua       string
	pageSize int
}

// New builds a client; it makes no request.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(opts.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, ErrBadURL
	}
	auth, err := AuthHeader(opts.Token)
	if err != nil {
		return nil, err
	}
	hc := opts.HTTPClient
	if hc == nil {
		tr, err := Transport(opts.CABundle)
		if err != nil {
			return nil, err
		}
		hc = &http.Client{Timeout: 30 * time.Second, Transport: tr}
	}
	hc = withRetryAfter(hc)
	if opts.UserAgent == "" {
		opts.UserAgent = "hnp-sidecar"
	}
	cfg := gonetbox.NewConfiguration()
	cfg.Servers = gonetbox.ServerConfigurations{{URL: u.String()}}
	cfg.HTTPClient = hc
	cfg.UserAgent = opts.UserAgent
	cfg.AddDefaultHeader("Authorization", auth)
	if opts.PageSize <= 0 {
		opts.PageSize = 1000
	}
	return &Client{api: gonetbox.NewAPIClient(cfg), base: u, auth: auth, http: hc, ua: opts.UserAgent,
		pageSize: opts.PageSize}, nil
}

// Transport is an HTTP transport (http.DefaultTransport's settings) that
// trusts caBundle's PEM certificates beside the system's roots; nil
// without a bundle (the default transport).
func Transport(caBundle []byte) (http.RoundTripper, error) {
	if len(caBundle) == 0 {
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(caBundle) {
		return nil, errors.New("netbox: the CA bundle holds no PEM certificate")
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return t, nil
}

func httpError(op string, resp *http.Response, err error) error {
	if resp != nil {
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w: %s", ErrNotFound, op)
		}
		return fmt.Errorf("netbox: %s: HTTP %d: %w", op, resp.StatusCode, errors.Join(ErrUnexpected, err))
	}
	return fmt.Errorf("netbox: %s: %w", op, err)
}
