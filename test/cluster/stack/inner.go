package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	argocdenv "github.com/githedgehog/hnp-sidecar/internal/testenv/argocd"
	clusterenv "github.com/githedgehog/hnp-sidecar/internal/testenv/cluster"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// inner runs inside the namespace: Redis, etcd and kube-apiserver with the
// Hedgehog CRDs, then Argo CD; it writes inner.json and waits for ctx.
func inner(ctx context.Context, o options) error {
	begin := time.Now()
	if out, err := exec.CommandContext(ctx, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("bring up the loopback: %w: %s", err, out)
	}
	if err := argocdenv.CheckNetns(); err != nil {
		return err
	}
	paths, err := argocdenv.Find()
	if err != nil {
		return err
	}
	bins, err := clusterenv.Build()
	if err != nil {
		return err
	}
	crds, err := filepath.Glob(filepath.Join(clusterenv.HedgehogCRDDir(), "*.yaml"))
	if err != nil || len(crds) == 0 {
		return fmt.Errorf("no Hedgehog CRDs at %s (set HNP_UPSTREAM_DIR to the folder holding hedgehog-crds/)", clusterenv.HedgehogCRDDir())
	}

	redisBin, err := redisenv.Binary()
	if err != nil {
		return err
	}
	dir := func(name string) (string, error) {
		d := filepath.Join(o.dir, name)
		return d, os.MkdirAll(d, 0o700)
	}
	rdir, err := dir("redis")
	if err != nil {
		return err
	}
	rdb, err := redisenv.Run(redisBin, rdir)
	if err != nil {
		return err
	}
	defer rdb.Stop()
	kdir, err := dir("kube")
	if err != nil {
		return err
	}
	cl, err := clusterenv.Run(bins, kdir, 0)
	if err != nil {
		return err
	}
	defer cl.Stop()
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if err := cl.ApplyFiles(sctx, crds...); err != nil {
		return fmt.Errorf("install the Hedgehog CRDs: %w", err)
	}
	adir, err := dir("argocd")
	if err != nil {
		return err
	}
	env, err := argocdenv.Run(sctx, paths, adir, argocdenv.Options{Config: cl.Config, RedisAddr: rdb.Addr})
	if env != nil {
		defer env.Stop()
	}
	if err != nil {
		return err
	}
	err = writeJSON(filepath.Join(o.dir, "inner.json"), ready{
		APIServer: cl.URL, Token: cl.Token, CA: cl.CA, ArgoCD: env.URL, ArgoToken: env.Token,
		ArgoAdminPw: env.AdminPassword, Version: cl.Version,
		Started: time.Since(begin).Round(time.Millisecond).String(), Phases: env.Phases,
	})
	if err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}
