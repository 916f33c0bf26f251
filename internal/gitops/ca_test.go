package gitops

import (
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/gitaccess"
	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/tlsca"
)

// Git over HTTPS to a remote whose certificate a private CA signed: with
// the CA in the writer's bundle (HNP_GIT_CA_FILE) the push reaches the
// real git http-backend; without it the remote is refused with the x509
// error and a hint, neutral for the breakers.
func TestHTTPSWithPrivateCA(t *testing.T) {
	if testing.Short() {
		t.Skip("starts git http-backend over TLS")
	}
	ca := tlsca.New(t)
	srv := gitenv.StartTLS(t, ca.Server(t))
	url := srv.NewRepo(t, "fabric", "main")
	p, err := gitaccess.New(gitaccess.Options{DefaultURL: url, Default: gitaccess.Credentials{Username: srv.User, Token: srv.Password}})
	require.NoError(t, err)
	writer := func(bundle []byte) *Writer {
		w, err := New(Options{WorkDir: t.TempDir(), Access: p, CABundle: bundle}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		require.NoError(t, err)
		return w
	}

	res, err := writer(ca.PEM).Apply(t.Context(), batch(url))
	require.NoError(t, err)
	require.Equal(t, res.Commit, gitenv.Git(t, srv.Dir("fabric"), "rev-parse", "refs/heads/main"))

	for name, bundle := range map[string][]byte{"no CA": nil, "another CA": tlsca.New(t).PEM} {
		t.Run(name, func(t *testing.T) {
			_, err := writer(bundle).Apply(t.Context(), batch(url))
			require.ErrorIs(t, err, gitaccess.ErrRefused)
			require.ErrorContains(t, err, "x509: certificate signed by unknown authority")
			require.ErrorContains(t, err, "HNP_GIT_CA_FILE")
			require.NotContains(t, err.Error(), srv.Password)
			var n interface{ BreakerNeutral() bool }
			require.True(t, errors.As(err, &n) && n.BreakerNeutral())
			t.Log(err)
		})
	}
}
