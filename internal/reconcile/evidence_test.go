package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/fabric"
	netboxenv "github.com/githedgehog/hnp-sidecar/internal/testenv/netbox"
)

var vpcKind, _ = kind.Lookup("vpc")

// evEnv is a fabric of n VPCs on a real NetBox and a real Git remote.
type evEnv struct {
	env
	fabric int64
	dir    string
	vpcs   map[string]int64 // name → NetBox id
	w      *gitops.Writer
}

func newEvEnv(t *testing.T, name string, n int) evEnv {
	t.Helper()
	e := evEnv{env: setup(t, name), dir: name, vpcs: map[string]int64{}}
	ctx := context.Background()
	var err error
	e.fabric, err = fabric.EnsureFabric(ctx, e.nb, name, map[string]any{
		"git_repository_url": e.url, "git_branch": "main", "gitops_directory": "/" + name + "/"})
	require.NoError(t, err)
	e.w = newGitWriter(t, e.env)
	for i := range n {
		e.addVPC(t, fmt.Sprintf("vpc-%02d", i))
	}
	return e
}

func newGitWriter(t *testing.T, e env) *gitops.Writer {
	t.Helper()
	w, err := gitops.New(gitops.Options{WorkDir: t.TempDir(), Access: gitAccess(t, e.srv)}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	return w
}

func (e evEnv) addVPC(t *testing.T, name string) {
	t.Helper()
	n := len(e.vpcs) + 1
	var o netbox.Object
	require.NoError(t, e.nb.Do(context.Background(), http.MethodPost, netbox.PluginPath+"vpcs/", map[string]any{"fabric": e.fabric, "name": name,
		"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": fmt.Sprintf("10.77.%d.0/24", n), "vlan": 1700 + n}}}}, &o))
	e.vpcs[name] = o.ID
}

func (e evEnv) deleteVPC(t *testing.T, name string) {
	t.Helper()
	require.NoError(t, e.nb.Do(context.Background(), http.MethodDelete, fmt.Sprintf("%svpcs/%d/", netbox.PluginPath, e.vpcs[name]), nil, nil))
}

// rec is a reconciler reading NetBox through nb, writing with its own clone.
func (e evEnv) recWith(t *testing.T, nb *netbox.Client) *Reconciler {
	return New(nb, newGitWriter(t, e.env), Defaults{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func (e evEnv) vpcFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, f := range e.files(t, e.dir+"/managed/vpcs") {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(f, e.dir+"/managed/vpcs/"), ".yaml"))
	}
	return out
}

func deleted(k kind.Kind, id int64) queue.Hint {
	return queue.Hint{ObjectType: k.ObjectType(), ObjectID: id, Kind: k.Name, Event: "deleted"}
}

// pageRacer deletes, between two pages of the VPC list, the first object
// of fabric that the page before held: the later pages shift left by one,
// so an object nobody touched is on no page (lists are paged by offset,
// with no snapshot). Fires once per arm().
type pageRacer struct {
	t      *testing.T
	admin  *netbox.Client
	fabric int64
	armed  atomic.Bool
	victim atomic.Int64
	fired  atomic.Int64
}

func (p *pageRacer) arm() { p.victim.Store(0); p.armed.Store(true) }

func (p *pageRacer) RoundTrip(r *http.Request) (*http.Response, error) {
	isList := r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/vpcs/") && r.URL.Query().Has("offset")
	if isList && p.victim.Load() != 0 && p.armed.CompareAndSwap(true, false) {
		err := p.admin.Do(r.Context(), http.MethodDelete, fmt.Sprintf("%svpcs/%d/", netbox.PluginPath, p.victim.Load()), nil, nil)
		if err != nil {
			return nil, err
		}
		p.fired.Add(1)
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || !isList || !p.armed.Load() || p.victim.Load() != 0 {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var page struct {
		Results []netbox.Object `json:"results"`
	}
	_ = json.Unmarshal(body, &page)
	for _, o := range page.Results {
		if int64(o.Fabric) == p.fabric {
			p.victim.Store(o.ID)
			break
		}
	}
	return resp, nil
}

// A VPC deleted while the list pages hides an untouched one from the list;
// the untouched one's file stays (read by id), the deleted one's goes (404).
func TestListingRaceLosesNoFile(t *testing.T) {
	e := newEvEnv(t, "race", 8)
	ctx := context.Background()
	_, err := e.rec.SyncFabric(ctx, e.fabric)
	require.NoError(t, err)
	require.Len(t, e.vpcFiles(t), 8)

	nbEnv := netboxenv.Get(t)
	racer := &pageRacer{t: t, admin: e.nb, fabric: e.fabric}
	racing, err := netbox.New(netbox.Options{URL: nbEnv.URL, Token: nbEnv.Token, PageSize: 3, HTTPClient: &http.Client{Transport: racer}})
	require.NoError(t, err)

	// The race itself: a VPC deleted after its page was read shifts the
	// later pages, and an untouched VPC is on none.
	racer.arm()
	listed, err := racing.ListObjects(ctx, vpcKind, e.fabric)
	require.NoError(t, err)
	require.EqualValues(t, 1, racer.fired.Load())
	var names []string
	for _, o := range listed {
		names = append(names, o.Name)
	}
	require.Len(t, listed, 7, "8 VPCs: the deleted one (read before) is listed, an untouched one is not")
	require.NotContains(t, names, "vpc-03", "the untouched VPC the shift hid")

	racer.arm()
	res, err := e.recWith(t, racing).SyncFabric(ctx, e.fabric)
	require.NoError(t, err)
	require.EqualValues(t, 2, racer.fired.Load())
	require.True(t, res.Committed)
	live := e.liveVPCs(t)
	require.Len(t, live, 6, "two deleted by the racer")
	require.Subset(t, e.vpcFiles(t), live, "every live VPC keeps its file")
	require.NotContains(t, e.vpcFiles(t), "vpc-00", "deleted before the run: 404, removed")

	// The VPC deleted during the run was listed (read before its delete);
	// its delete webhook's reconcile removes it.
	_, err = e.rec.Sync(ctx, e.fabric, []queue.Hint{deleted(vpcKind, e.vpcs["vpc-01"])})
	require.NoError(t, err)
	require.ElementsMatch(t, live, e.vpcFiles(t))
}

func (e evEnv) liveVPCs(t *testing.T) []string {
	t.Helper()
	var live []netbox.Object
	require.NoError(t, e.nb.Do(context.Background(), http.MethodGet, netbox.PluginPath+"vpcs/?limit=1000", nil, &struct {
		Results *[]netbox.Object `json:"results"`
	}{&live}))
	var out []string
	for _, o := range live {
		if int64(o.Fabric) == e.fabric {
			out = append(out, o.Name)
		}
	}
	return out
}
