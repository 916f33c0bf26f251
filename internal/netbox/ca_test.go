package netbox

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	netboxenv "github.com/githedgehog/hnp-sidecar/internal/testenv/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/tlsca"
)

// NetBox behind a TLS reverse proxy whose certificate a private CA signed
// (on 127.0.0.1): the client trusts it with the CA bundle
// (HNP_NETBOX_CA_FILE) and reads the real NetBox; without the bundle, or
// with another CA's, the call fails on the certificate.
func TestPrivateCAReachesRealNetBox(t *testing.T) {
	env := netboxenv.Get(t)
	target, err := url.Parse(env.URL)
	require.NoError(t, err)
	ca := tlsca.New(t)
	proxy := httptest.NewUnstartedServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.SetXForwarded()
	}})
	proxy.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t)}, MinVersion: tls.VersionTLS12}
	proxy.StartTLS()
	t.Cleanup(proxy.Close)
	require.Contains(t, proxy.URL, "https://127.0.0.1:")

	nb, err := New(Options{URL: proxy.URL, Token: env.Token, CABundle: ca.PEM})
	require.NoError(t, err)
	v, err := nb.Version(t.Context())
	require.NoError(t, err)
	require.NotEmpty(t, v)
	_, err = nb.ListFabrics(t.Context())
	require.NoError(t, err)

	// what the sidecar builds: the transport under its own client (app)
	tr, err := Transport(ca.PEM)
	require.NoError(t, err)
	nb, err = New(Options{URL: proxy.URL, Token: env.Token, HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: tr}})
	require.NoError(t, err)
	_, err = nb.Version(t.Context())
	require.NoError(t, err)

	for name, bundle := range map[string][]byte{"system roots only": nil, "another CA": tlsca.New(t).PEM} {
		t.Run(name, func(t *testing.T) {
			nb, err := New(Options{URL: proxy.URL, Token: env.Token, CABundle: bundle})
			require.NoError(t, err)
			_, err = nb.Version(t.Context())
			require.ErrorContains(t, err, "x509: certificate signed by unknown authority")
			require.NotContains(t, err.Error(), env.Token)
		})
	}

	_, err = Transport([]byte("no certificate here"))
	require.ErrorContains(t, err, "holds no PEM certificate")
}
