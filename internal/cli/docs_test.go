package cli

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The README's command line reference is generated from the commands;
// this fails when it is not what they print now.
func TestREADMEReferenceIsCurrent(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	got, err := ReadmeReference(string(readme))
	require.NoError(t, err, "README.md needs the lines %s and %s around the command line reference", ReferenceStart, ReferenceEnd)
	want, err := Reference(context.Background())
	require.NoError(t, err)
	require.Equal(t, want, got,
		"README.md's command line reference is out of date: run `make docs` (go run ./cmd/hnp-sidecar docs --readme README.md)")
}

func TestReference(t *testing.T) {
	ref, err := Reference(context.Background())
	require.NoError(t, err)
	for _, want := range []string{"### `hnp-sidecar`\n", "### `hnp-sidecar serve`\n", "### `hnp-sidecar argocd install`\n",
		"### `hnp-sidecar state show`\n", "### `hnp-sidecar completion`\n", "Usage:\n  hnp-sidecar resync --fabric ID|NAME [flags]\n"} {
		require.Contains(t, ref, want)
	}
	require.NotContains(t, ref, "hnp-sidecar docs", "hidden commands stay out")
	require.NotContains(t, ref, "### `hnp-sidecar help`")
	require.Less(t, strings.Index(ref, "hnp-sidecar serve`"), strings.Index(ref, "hnp-sidecar resync`"), "the root's groups give the order")
}

func TestReplaceReference(t *testing.T) {
	doc := "# x\n\n" + ReferenceStart + "\nold\n" + ReferenceEnd + "\n\ntail\n"
	out, err := ReplaceReference(doc, "new\n")
	require.NoError(t, err)
	require.Equal(t, "# x\n\n"+ReferenceStart+"\nnew\n"+ReferenceEnd+"\n\ntail\n", out)
	ref, err := ReadmeReference(out)
	require.NoError(t, err)
	require.Equal(t, "new\n", ref)

	_, err = ReplaceReference("# x\n", "new\n")
	require.ErrorContains(t, err, ReferenceStart)
	_, err = ReadmeReference("# x\n" + ReferenceStart + "\nold\n")
	require.ErrorContains(t, err, ReferenceEnd)
}
