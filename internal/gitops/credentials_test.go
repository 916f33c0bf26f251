package gitops

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/gitaccess"
	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
)

// The token of an https default URL never goes over plain http, even with
// HNP_GIT_ALLOW_HTTP and an allowed host (before: http://host/x got
// Authorization: Basic bot:the-token in clear); the local http rigs,
// whose default URL is http, keep their credentials.
func TestHTTPSCredentialsStayOffHTTP(t *testing.T) {
	for _, tc := range []struct {
		name      string
		defScheme string // the default URL's scheme
		wantAuth  string // the Authorization the http remote gets
	}{
		{"https default URL", "https", ""},
		{"http default URL", "http", "Basic Ym90OnRoZS10b2tlbg=="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
				http.Error(w, "who are you", http.StatusUnauthorized)
			})
			hostPort := rec.Listener.Addr().String()
			w := policyWriter(t, gitaccess.Options{DefaultURL: tc.defScheme + "://" + hostPort + "/fleet.git", AllowHTTP: true,
				Default: gitaccess.Credentials{Username: "bot", Token: "the-token"}}, nil)
			_, err := w.Apply(t.Context(), batch("http://"+hostPort+"/r.git"))
			require.Error(t, err)
			require.NotEmpty(t, rec.got())
			for _, r := range rec.got() {
				require.Equal(t, "GET /r.git/info/refs Authorization: "+tc.wantAuth, r)
			}
		})
	}
	t.Run("local http rig", func(t *testing.T) {
		srv := gitenv.Start(t)
		url := srv.NewRepo(t, "fleet", "main")
		w := policyWriter(t, gitaccess.Options{DefaultURL: url, AllowHTTP: true,
			Default: gitaccess.Credentials{Username: srv.User, Token: srv.Password}}, nil)
		_, err := w.Apply(t.Context(), batch(url))
		require.NoError(t, err)
	})
}
