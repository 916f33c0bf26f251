package render

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPath(t *testing.T) {
	vpc, conn := kindByName(t, "VPC"), kindByName(t, "Connection")
	for _, tc := range []struct {
		root string
		o    Object
		want string
	}{
		{"", Object{Kind: vpc, Name: "vpc-1"}, "managed/vpcs/vpc-1.yaml"},
		{"/", Object{Kind: vpc, Name: "vpc-1", Namespace: "default"}, "managed/vpcs/vpc-1.yaml"},
		{"/fabrics/prod/", Object{Kind: vpc, Name: "vpc-1"}, "fabrics/prod/managed/vpcs/vpc-1.yaml"},
		{"fabrics//prod/./", Object{Kind: conn, Name: "a--b.c"}, "fabrics/prod/managed/connections/a--b.c.yaml"},
		{"a/../b", Object{Kind: vpc, Name: "vpc-1"}, "b/managed/vpcs/vpc-1.yaml"},
		{"x", Object{Kind: vpc, Name: "vpc-1", Namespace: "team-a"}, "x/managed/vpcs/team-a-vpc-1.yaml"},
		{"x", Object{Kind: vpc, Name: longName(250)}, "x/managed/vpcs/" + longName(250) + ".yaml"},
	} {
		got, err := Path(tc.root, tc.o)
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
}

func TestPathRefusesEscapes(t *testing.T) {
	vpc := kindByName(t, "VPC")
	for _, name := range []string{
		"", ".", "..", "../x", "x/..", "a/b", `a\b`, "/abs", "VPC-1", "a b", "a..b", ".a", "a.", "-a", "a-",
		"ä", "a\x00b", "a\nb", longName(251), longName(253), longName(254),
	} {
		_, err := Path("root", Object{Kind: vpc, Name: name})
		require.ErrorIs(t, err, ErrInvalid, "name %q", name)
	}
	for _, ns := range []string{"..", "a/b", "NS", "a.b"} {
		_, err := Path("root", Object{Kind: vpc, Name: "vpc-1", Namespace: ns})
		require.ErrorIs(t, err, ErrInvalid, "namespace %q", ns)
	}
	_, err := Path("root", Object{Name: "vpc-1"})
	require.ErrorIs(t, err, ErrInvalid, "no kind")
	for _, root := range []string{"..", "../x", "a/../../x", ".git", "a/.GIT/b", `a\b`, "a\nb"} {
		_, err := Path(root, Object{Kind: vpc, Name: "vpc-1"})
		require.ErrorIs(t, err, ErrRoot, "root %q", root)
		_, err = ManifestPath(root)
		require.ErrorIs(t, err, ErrRoot, "root %q", root)
	}
}

func TestManifestPath(t *testing.T) {
	for root, want := range map[string]string{"": ".hnp/manifest.yaml", "/gitops/": "gitops/.hnp/manifest.yaml"} {
		got, err := ManifestPath(root)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	dir, err := ManagedDir("/gitops/")
	require.NoError(t, err)
	require.Equal(t, "gitops/managed", dir)
}

// longName is a valid dotted name of n characters.
func longName(n int) string {
	b := []byte(strings.Repeat("a", n))
	for i := 1; i < n-1; i += 10 {
		b[i] = '.'
	}
	return string(b)
}

func TestLongName(t *testing.T) {
	for _, n := range []int{250, 251, 253, 254} {
		require.Len(t, longName(n), n)
		require.True(t, isSubdomain(longName(n)) || n > 253)
	}
}
