// Command cluster-stack is the cluster side of `make run` (HNP_RUN_CLUSTER=1):
// a kube-apiserver with the Hedgehog CRDs and Argo CD (etcd, Redis, the
// repo-server, application-controller and argocd-server) as local processes
// in a private network namespace — Argo CD's controller cannot be told to
// listen on 127.0.0.1 only — with the API server and argocd-server forwarded
// to the host's 127.0.0.1 and the host's Git remote forwarded inside, at the
// same addresses. It writes a kubeconfig for the host, an Argo CD token and
// a "ready" file into -dir, and stops everything on SIGINT/SIGTERM (or when
// its parent dies). The binaries come from test/cluster/build.sh and
// build-argocd.sh (make cluster); it needs root to create the namespace.
//
//	cluster-stack -dir /tmp/hnp-run/cluster -kube-addr 127.0.0.1:6443 \
//	  -argocd-addr 127.0.0.1:8092 -expose 127.0.0.1:8091
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// ready is what the inner half hands the outer one (in -dir/inner.json).
type ready struct {
	APIServer   string `json:"api_server"`
	Token       string `json:"token"`
	CA          []byte `json:"ca"`
	ArgoCD      string `json:"argocd"`
	ArgoToken   string `json:"argocd_token"`
	ArgoAdminPw string `json:"argocd_admin_password"`
	Version     string `json:"version"`
	Started     string `json:"started"`
	Phases      string `json:"phases"`
}

type options struct {
	dir      string
	kubeAddr string
	argoAddr string
	expose   []string
	inner    bool
}

func main() {
	// The main goroutine keeps the thread that starts the inner half: the
	// inner half's parent-death signal fires when that thread ends, and
	// netns.Do throws away the threads it uses.
	runtime.LockOSThread()
	var o options
	var expose string
	flag.StringVar(&o.dir, "dir", "", "state directory (logs, kubeconfig, tokens); emptied at start")
	flag.StringVar(&o.kubeAddr, "kube-addr", "127.0.0.1:6443", "host address the API server is forwarded to")
	flag.StringVar(&o.argoAddr, "argocd-addr", "127.0.0.1:8092", "host address argocd-server is forwarded to")
	flag.StringVar(&expose, "expose", "", "comma-separated host addresses (IP:port) reachable inside at the same address, e.g. the Git remote")
	flag.BoolVar(&o.inner, "inner", false, "run the inner half (inside the namespace); used by the outer half")
	flag.Parse()
	if o.dir == "" {
		fmt.Fprintln(os.Stderr, "cluster-stack: -dir is required")
		os.Exit(2)
	}
	for _, a := range strings.Split(expose, ",") {
		if a = strings.TrimSpace(a); a != "" {
			o.expose = append(o.expose, a)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	run := outer
	if o.inner {
		run = inner
	}
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "cluster-stack:", err)
		stop()
		os.Exit(1)
	}
}

// writeJSON writes v to path atomically, readable by the owner only.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(path, b)
}

func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Clean(path))
}
