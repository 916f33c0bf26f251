package netbox

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
)

// PatchObjects sends a few PATCHes at a time; every answer is sorted into
// its place whatever the order they come in: saved (with NetBox's
// answer), changed meanwhile (412), gone (404), and an outage reported
// after the writes in flight finished.
func TestPatchObjectsAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id int64
		_, _ = fmt.Sscanf(r.URL.Path[strings.LastIndex(strings.TrimSuffix(r.URL.Path, "/"), "/")+1:], "%d", &id)
		w.Header().Set("Content-Type", "application/json")
		switch id {
		case 2:
			w.WriteHeader(http.StatusPreconditionFailed)
			_, _ = w.Write([]byte(`{"detail":"changed"}`))
		case 4:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"detail":"Not found."}`))
		case 6:
			w.WriteHeader(http.StatusBadGateway)
		default:
			require.Equal(t, `W/"2026-12-07T10:00:00+00:00"`, r.Header.Get("If-Match"))
			_, _ = fmt.Fprintf(w, `{"id":%d,"last_updated":"2026-12-07T10:00:0%d.5Z","git_file_path":"p%d"}`, id, id, id)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{URL: srv.URL, Token: strings.Repeat("a", 40)})
	require.NoError(t, err)
	vpc, _ := kind.Named("VPC")
	var ps []Patch
	for id := range int64(6) {
		ps = append(ps, Patch{ID: id + 1, Fields: map[string]any{"git_file_path": "x"}, LastUpdated: "2026-12-07T10:00:00Z"})
	}
	res, err := c.PatchObjects(context.Background(), vpc, ps)
	require.ErrorContains(t, err, "update VPC 6")
	require.Equal(t, []int64{2}, res.Conflicted)
	require.Equal(t, 1, res.Gone)
	require.Len(t, res.Saved, 3)
	for i, id := range []int64{1, 3, 5} {
		require.Equal(t, id, res.Saved[i].ID)
		require.Equal(t, fmt.Sprintf("2026-12-07T10:00:0%d.5Z", id), res.Saved[i].LastUpdated)
		require.Equal(t, fmt.Sprintf("p%d", id), res.Saved[i].GitFilePath)
	}
}
