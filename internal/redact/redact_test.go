package redact

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestText(t *testing.T) {
	cases := []struct{ in, want string }{
		{`Get "https://user:pa55@netbox.example.com/api/dcim/devices/?token=x#f": EOF`,
			`Get "https://netbox.example.com/api/dcim/devices/": EOF`},
		{"push to git+ssh://git@host.example/org/r.git failed", "push to git+ssh://host.example/org/r.git failed"},
		{"fetch https://a:b@host.example/r.git?t=1: EOF.", "fetch https://host.example/r.git: EOF."},
		{"bad https://u:p@host%zz/x, then", "bad https://[redacted], then"},
		{"clone oauth2:glpat-AAAABBBB@gitlab.example.com:org/r.git", "clone [redacted]@gitlab.example.com:org/r.git"},
		{"authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", "authorization: Bearer [redacted]"},
		{"header Token 0123456789abcdef0123456789abcdef01234567", "header Token [redacted]"},
		{"netbox: nbt_abcDEF123.secretpart-_x refused", "netbox: [redacted] refused"},
		{`body {"api_key": "k-123", "token":"t"}`, `body {"api_key": "[redacted]", "token":"[redacted]"}`},
		{"password authentication failed", "password authentication failed"},
		{"commit 0123456789abcdef0123456789abcdef01234567 not found", "commit 0123456789abcdef0123456789abcdef01234567 not found"},
		{strings.Repeat("é", 200), strings.Repeat("é", 150) + "…"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, Text(tc.in), tc.in)
	}
}

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                                    "",
		"https://argocd.example.com":          "https://argocd.example.com",
		"https://u:p@git.example/r.git?t=1#x": "https://git.example/r.git",
		"https://u:p@host%zz/x":               "https://[redacted]",
	} {
		require.Equal(t, want, URL(in), in)
	}
}

// A string that is no URL at all is redacted whole, not a panic.
func TestURLWithoutScheme(t *testing.T) {
	require.Equal(t, "[redacted]", URL("%zz"))
}
