package gitops

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/stretchr/testify/require"
)

// The overlay's pack reads back, with go-git's own parser, as exactly the
// objects written, once each; a store without packfiles gets them one by
// one.
func TestOverlayPackReadsBack(t *testing.T) {
	base := memory.NewStorage()
	o := newOverlay(base, "")
	var want []plumbing.Hash
	for i := range 2000 {
		content := fmt.Appendf(nil, "object %d\n%s", i%1500, bytes.Repeat([]byte("x"), i%300))
		h, err := writeBlob(o, content)
		require.NoError(t, err)
		if i < 1500 {
			want = append(want, h)
		}
	}
	require.Len(t, o.added, 1500)
	pack, idx, err := o.encode()
	require.NoError(t, err)
	n, err := idx.Count()
	require.NoError(t, err)
	require.EqualValues(t, 1500, n)

	parsed := memory.NewStorage()
	p, err := packfile.NewParserWithStorage(packfile.NewScanner(bytes.NewReader(pack)), parsed)
	require.NoError(t, err)
	sum, err := p.Parse()
	require.NoError(t, err)
	require.Equal(t, plumbing.Hash(idx.PackfileChecksum), sum)
	require.Len(t, parsed.Objects, 1500)
	for _, h := range want {
		off, err := idx.FindOffset(h)
		require.NoError(t, err)
		require.Positive(t, off)
		require.NoError(t, parsed.HasEncodedObject(h))
	}

	flushed, err := o.flush()
	require.NoError(t, err)
	require.Equal(t, pack, flushed)
	for _, h := range want {
		require.NoError(t, base.HasEncodedObject(h))
	}
}
