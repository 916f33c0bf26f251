package clusterenv

import (
	"context"
	"crypto/tls"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestDecode(t *testing.T) {
	objs, err := Decode([]byte(`
---
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
# only a comment
---
{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}},
  {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}]}
`))
	require.NoError(t, err)
	var names []string
	for _, o := range objs {
		names = append(names, o.GetKind()+"/"+o.GetName())
	}
	require.Equal(t, []string{"Namespace/a", "ConfigMap/b", "ConfigMap/c"}, names)
	_, err = Decode([]byte("kind: [\n"))
	require.Error(t, err)
}

func TestStart(t *testing.T) {
	c := Start(t)
	require.Equal(t, "v1.37.2", c.Version)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Every Hedgehog CRD is served.
	files, err := filepath.Glob(filepath.Join(HedgehogCRDDir(), "*.yaml"))
	require.NoError(t, err)
	dyn, err := c.Dynamic()
	require.NoError(t, err)
	crds, err := dyn.Resource(crdResource).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, crds.Items, len(files))
	vpcs := schema.GroupVersionResource{Group: "vpc.githedgehog.com", Version: "v1beta1", Resource: "vpcs"}
	_, err = dyn.Resource(vpcs).Namespace("default").List(ctx, metav1.ListOptions{})
	require.NoError(t, err)

	// The CRD schemas are enforced: a wrong type is rejected, and so is an
	// unknown field (server-side apply does not prune, it refuses).
	bad, err := Decode([]byte("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata: {name: v}\nspec: {subnets: nope}\n"))
	require.NoError(t, err)
	_, err = c.ApplyObject(ctx, bad[0], true)
	require.ErrorContains(t, err, "spec.subnets")
	unknown, err := Decode([]byte("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata: {name: v}\nspec: {bogus: 1}\n"))
	require.NoError(t, err)
	_, err = c.ApplyObject(ctx, unknown[0], true)
	require.ErrorContains(t, err, ".spec.bogus: field not declared in schema")

	// The API server makes its own namespaces; Apply creates and updates.
	require.Eventually(t, func() bool {
		_, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	}, 10*time.Second, 20*time.Millisecond)
	cm := []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: \"1\"}\n")
	require.NoError(t, c.Apply(ctx, cm, []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n")))
	objs, err := Decode(cm)
	require.NoError(t, err)
	objs[0].Object["data"] = map[string]any{"a": "2"}
	got, err := c.ApplyObject(ctx, objs[0], true)
	require.NoError(t, err)
	require.Equal(t, "2", got.Object["data"].(map[string]any)["a"])
	stored, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace("default").Get(ctx, "x", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "1", stored.Object["data"].(map[string]any)["a"], "dry run stores nothing")

	// Without the token: anonymous, and RBAC gives it nothing.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := hc.Get(c.URL + "/api/v1/namespaces/default/configmaps")
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Contains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, resp.StatusCode)

	// Stop ends both processes.
	var pids []int
	for _, p := range c.procs {
		pids = append(pids, p.PID())
	}
	c.Stop()
	for _, pid := range pids {
		require.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH)
	}
	c.Stop() // again: nothing to do
}
