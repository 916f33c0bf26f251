package argocdenv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	argocdenv "github.com/githedgehog/hnp-sidecar/internal/testenv/argocd"
	clusterenv "github.com/githedgehog/hnp-sidecar/internal/testenv/cluster"
	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

var applications = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// TestSmoke: API server, Redis, a Git remote and Argo CD come up in the
// network namespace; an Application of a repository with one ConfigMap gets
// Synced and Healthy; a pushed change is synced through the REST API to the
// new commit. Run it with test/cluster/in-netns.sh (see the package doc).
func TestSmoke(t *testing.T) {
	argocdenv.Skip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	begin := time.Now()
	cluster := clusterenv.Start(t)
	rds := redisenv.Start(t)
	git := gitenv.Start(t)
	repoURL := git.NewRepo(t, "fabric", "main")
	work := t.TempDir()
	gitenv.Git(t, work, "clone", "-q", git.AuthURL(repoURL), ".")
	sha1 := commitConfigMap(t, work, "one")
	infra := time.Since(begin)

	env := argocdenv.Start(t, argocdenv.Options{Config: cluster.Config, RedisAddr: rds.Addr})
	up := time.Since(begin)
	t.Logf("environment up in %s (API server, Redis, Git: %s; Argo CD: %s: %s) — argocd-server %s, logs in %s",
		up.Round(time.Millisecond), infra.Round(time.Millisecond), env.Started.Round(time.Millisecond), env.Phases, env.URL, env.Dir)

	cs, err := kubernetes.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	// The repository's credentials, as the sidecar will give them.
	_, err = cs.CoreV1().Secrets(argocdenv.Namespace).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "repo-fabric", Labels: map[string]string{"argocd.argoproj.io/secret-type": "repository"}},
		StringData: map[string]string{"type": "git", "url": repoURL, "username": git.User, "password": git.Password},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	rest := &restClient{base: env.URL, token: env.Token}
	apps := []struct {
		name, server, ns string
		automated        bool
	}{
		{"smoke", env.ClusterServer, "default", true},
		// kubernetes.default.svc, as DESIGN.md §8's Applications name it.
		{"smoke-in-cluster", argocdenv.InCluster, "in-cluster", true},
		{"smoke-manual", env.ClusterServer, "manual", false},
	}
	for _, a := range apps {
		t0 := time.Now()
		if a.ns != "default" {
			if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: a.ns}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		app := application(a.name, repoURL, a.server, a.ns, a.automated)
		if _, err := dyn.Resource(applications).Namespace(argocdenv.Namespace).Create(ctx, app, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if !a.automated {
			syncREST(ctx, t, rest, a.name, sha1)
		}
		waitApplied(ctx, t, env, dyn, a.name, sha1)
		waitConfigMap(ctx, t, cs, a.ns, "one")
		t.Logf("%s (%s, automated %v): created, Synced and Healthy at %s in %s", a.name, a.server, a.automated, sha1[:8], time.Since(t0).Round(time.Millisecond))
	}

	sha2 := commitConfigMap(t, work, "two")

	// Without automated sync: refresh, then sync to the commit (REST).
	t0 := time.Now()
	if err := rest.do(ctx, http.MethodGet, "/api/v1/applications/smoke-manual?refresh=normal", nil, nil); err != nil {
		t.Fatal(err)
	}
	refresh := time.Since(t0)
	t1 := time.Now()
	syncREST(ctx, t, rest, "smoke-manual", sha2)
	waitApplied(ctx, t, env, dyn, "smoke-manual", sha2)
	sync := time.Since(t1)
	waitConfigMap(ctx, t, cs, "manual", "two")
	t.Logf("REST, no automated sync: refresh %s, then sync to %s applied (DESIGN.md §8) in %s",
		refresh.Round(time.Millisecond), sha2[:8], sync.Round(time.Millisecond))

	// With automated sync, Argo CD refuses a sync to any revision but the
	// Application's targetRevision (HTTP 400, code 9): refresh and sync the
	// branch, then check the commit.
	err = rest.do(ctx, http.MethodPost, "/api/v1/applications/smoke/sync", map[string]any{"revision": sha2}, nil)
	if err == nil || !strings.Contains(err.Error(), "auto-sync currently set to main") {
		t.Fatalf("sync of an automated Application to a commit: want refused, got %v", err)
	}
	t.Logf("REST, automated sync, revision = commit: %v", err)
	t0 = time.Now()
	if err := rest.do(ctx, http.MethodGet, "/api/v1/applications/smoke?refresh=normal", nil, nil); err != nil {
		t.Fatal(err)
	}
	refresh = time.Since(t0)
	t1 = time.Now()
	syncREST(ctx, t, rest, "smoke", "main")
	waitApplied(ctx, t, env, dyn, "smoke", sha2)
	waitConfigMap(ctx, t, cs, "default", "two")
	t.Logf("REST, automated sync: refresh %s, then sync to the branch: %s applied in %s",
		refresh.Round(time.Millisecond), sha2[:8], time.Since(t1).Round(time.Millisecond))

	// Kubernetes: the refresh annotation, then the operation with the commit
	// (the controller does not check it against automated sync).
	t0 = time.Now()
	apps0 := dyn.Resource(applications).Namespace(argocdenv.Namespace)
	if _, err := apps0.Patch(ctx, "smoke-in-cluster", types.MergePatchType,
		[]byte(`{"metadata":{"annotations":{"argocd.argoproj.io/refresh":"normal"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	op := fmt.Sprintf(`{"operation":{"initiatedBy":{"username":"hnp-sidecar"},"sync":{"revision":%q}}}`, sha2)
	if _, err := apps0.Patch(ctx, "smoke-in-cluster", types.MergePatchType, []byte(op), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitApplied(ctx, t, env, dyn, "smoke-in-cluster", sha2)
	waitConfigMap(ctx, t, cs, "in-cluster", "two")
	t.Logf("Kubernetes API, automated sync: refresh annotation and operation with %s: applied in %s", sha2[:8], time.Since(t0).Round(time.Millisecond))

	// A second sync while one runs is refused as busy (HTTP 400, code 9).
	sha3 := commitConfigMap(t, work, "three")
	if err := rest.do(ctx, http.MethodGet, "/api/v1/applications/smoke-manual?refresh=normal", nil, nil); err != nil {
		t.Fatal(err)
	}
	syncREST(ctx, t, rest, "smoke-manual", sha3)
	busy := rest.do(ctx, http.MethodPost, "/api/v1/applications/smoke-manual/sync", map[string]any{"revision": sha3}, nil)
	t.Logf("a second sync right after the first: %v", busy)
	waitApplied(ctx, t, env, dyn, "smoke-manual", sha3)

	var total int64
	for name, rss := range env.RSS() {
		t.Logf("RSS %s: %d MiB", name, rss>>20)
		total += rss
	}
	t.Logf("RSS Argo CD: %d MiB; every process in the network namespace: %d MiB", total>>20, netnsRSS(t)>>20)
}

// commitConfigMap commits managed/cm.yaml, a ConfigMap whose data.value is
// value, pushes it and returns the commit.
func commitConfigMap(t *testing.T, work, value string) string {
	t.Helper()
	cm := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: smoke\ndata:\n  value: %q\n", value)
	if err := os.MkdirAll(filepath.Join(work, "managed"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "managed", "cm.yaml"), []byte(cm), 0o644); err != nil {
		t.Fatal(err)
	}
	gitenv.Git(t, work, "add", "-A")
	gitenv.Git(t, work, "commit", "-q", "-m", "value "+value)
	gitenv.Git(t, work, "push", "-q", "origin", "HEAD:main")
	return gitenv.Git(t, work, "rev-parse", "HEAD")
}

// syncREST asks for a sync to revision, retrying while Argo CD is busy.
func syncREST(ctx context.Context, t *testing.T, rest *restClient, name, revision string) {
	t.Helper()
	for {
		err := rest.do(ctx, http.MethodPost, "/api/v1/applications/"+name+"/sync", map[string]any{"revision": revision, "prune": true}, nil)
		if err == nil {
			return
		}
		if !strings.Contains(err.Error(), "another operation is already in progress") || ctx.Err() != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func application(name, repoURL, server, ns string, automated bool) *unstructured.Unstructured {
	policy := map[string]any{"retry": map[string]any{"limit": int64(-1), "refresh": true}}
	if automated {
		policy["automated"] = map[string]any{"prune": true, "selfHeal": true}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Application",
		"metadata":   map[string]any{"name": name, "namespace": argocdenv.Namespace},
		"spec": map[string]any{
			"project": "default",
			"source": map[string]any{"repoURL": repoURL, "targetRevision": "main", "path": "managed",
				"directory": map[string]any{"recurse": true}},
			"destination": map[string]any{"server": server, "namespace": ns},
			"syncPolicy":  policy,
		},
	}}
}

// waitApplied waits until commit is applied as DESIGN.md §8 defines it and
// the Application is Healthy.
func waitApplied(ctx context.Context, t *testing.T, env *argocdenv.Env, dyn dynamic.Interface, name, commit string) {
	t.Helper()
	var last string
	for {
		u, err := dyn.Resource(applications).Namespace(argocdenv.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			s := func(path ...string) string { v, _, _ := unstructured.NestedString(u.Object, path...); return v }
			last = fmt.Sprintf("sync %s at %s, health %s, operation %s at %s: %s", s("status", "sync", "status"),
				s("status", "sync", "revision"), s("status", "health", "status"), s("status", "operationState", "phase"),
				s("status", "operationState", "syncResult", "revision"), s("status", "operationState", "message"))
			if s("status", "sync", "status") == "Synced" && s("status", "sync", "revision") == commit &&
				s("status", "operationState", "phase") == "Succeeded" && s("status", "operationState", "syncResult", "revision") == commit &&
				s("status", "health", "status") == "Healthy" {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %s not applied: %s\ncontroller:\n%s\nrepo-server:\n%s", name, commit, last,
				tailLines(env.Log("argocd-application-controller"), 30), tailLines(env.Log("argocd-repo-server"), 15))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func waitConfigMap(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, value string) {
	t.Helper()
	for {
		cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "smoke", metav1.GetOptions{})
		if err == nil && cm.Data["value"] == value {
			return
		}
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("ConfigMap %s/smoke never had value %q (%v)", ns, value, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

type restClient struct{ base, token string }

func (c *restClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json") // else 415
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// netnsRSS sums the resident memory of every process in this network
// namespace (the test binary, API server, etcd, Redis, Git, Argo CD).
func netnsRSS(t *testing.T) int64 {
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return 0
	}
	dirs, _ := os.ReadDir("/proc")
	var total int64
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		if ns, err := os.Readlink(filepath.Join("/proc", d.Name(), "ns", "net")); err != nil || ns != self {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "status"))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				total += kb << 10
			}
		}
	}
	return total
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
