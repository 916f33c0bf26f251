package api

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/argocd/install"
)

func TestInstallRequest(t *testing.T) {

	for _, tc := range []struct {
		name   string
		body   InstallBody
		source string
		wait   time.Duration
		err    string
	}{
		{"defaults", InstallBody{}, install.DefaultManifest, 10 * time.Minute, ""},
		{"a URL and a wait", InstallBody{ManifestURL: "https://example.com/v3.6.1/install.yaml", Wait: "90s"},
			"https://example.com/v3.6.1/install.yaml", 90 * time.Second, ""},
		{"uploaded", InstallBody{Manifest: "kind: x"}, "uploaded manifest", 10 * time.Minute, ""},
		{"a file on the sidecar", InstallBody{ManifestURL: "file:///etc/passwd"}, "", 0, "must be an http(s) URL"},
		{"a path", InstallBody{ManifestURL: "/etc/passwd"}, "", 0, "must be an http(s) URL"},
		{"both", InstallBody{ManifestURL: "https://example.com/i.yaml", Manifest: "x"}, "", 0, "not both"},
		{"bad wait", InstallBody{Wait: "forever"}, "", 0, "wait: not a duration"},
		{"too long", InstallBody{Wait: "3h"}, "", 0, "wait: not a duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := installRequest(tc.body, install.DefaultManifest, 10*time.Minute)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.source, req.Source)
			require.Equal(t, tc.wait, req.Wait)
		})
	}
}
