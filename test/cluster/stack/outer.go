package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/netns"
)

// outer listens on the host addresses, starts the inner half in a new
// network namespace, waits for it to be ready, forwards, and stops it when
// ctx ends.
func outer(ctx context.Context, o options) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root to create a network namespace (run as root, or leave HNP_RUN_CLUSTER unset)")
	}
	if err := os.RemoveAll(o.dir); err != nil {
		return err
	}
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return err
	}
	kubeLn, err := net.Listen("tcp", o.kubeAddr)
	if err != nil {
		return fmt.Errorf("API server address: %w", err)
	}
	argoLn, err := net.Listen("tcp", o.argoAddr)
	if err != nil {
		_ = kubeLn.Close()
		return fmt.Errorf("argocd-server address: %w", err)
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	log, err := os.Create(filepath.Join(o.dir, "stack.log"))
	if err != nil {
		return err
	}
	defer func() { _ = log.Close() }()
	cmd := exec.Command(self, "-inner", "-dir", o.dir)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the inner half in a new network namespace: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopInner := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			_ = err // it was asked to stop
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			err := <-exited
			_ = err
		}
	}

	in, err := waitReady(ctx, filepath.Join(o.dir, "inner.json"), exited, log.Name())
	if err != nil {
		stopInner()
		return err
	}
	ns, err := netns.OfProcess(cmd.Process.Pid)
	if err != nil {
		stopInner()
		return err
	}
	defer func() { _ = ns.Close() }()

	fctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	onErr := func(err error) { fmt.Fprintln(os.Stderr, "cluster-stack: forward:", err) }
	forward := func(ln net.Listener, dial netns.DialFunc) { wg.Go(func() { netns.Forward(fctx, ln, dial, onErr) }) }
	api, err := url.Parse(in.APIServer)
	if err != nil {
		stopInner()
		return err
	}
	argo, err := url.Parse(in.ArgoCD)
	if err != nil {
		stopInner()
		return err
	}
	forward(kubeLn, netns.NSDial(ns, api.Host))
	forward(argoLn, netns.NSDial(ns, argo.Host))
	for _, a := range o.expose {
		ln, err := ns.Listen(ctx, a)
		if err != nil {
			cancel()
			stopInner()
			return err
		}
		forward(ln, netns.HostDial(a))
	}
	if err := writeHostFiles(o, in); err != nil {
		cancel()
		stopInner()
		return err
	}
	fmt.Printf("cluster-stack: kube-apiserver %s at https://%s, argocd-server %s at http://%s (up in %s; %s)\n",
		in.Version, o.kubeAddr, "v3.6.1", o.argoAddr, in.Started, in.Phases)
	if err := writeFile(filepath.Join(o.dir, "ready"), []byte("ready\n")); err != nil {
		cancel()
		stopInner()
		return err
	}
	select {
	case <-ctx.Done():
		cancel()
		stopInner()
		return nil
	case err := <-exited:
		cancel()
		return fmt.Errorf("the inner half exited (%v); see %s", err, log.Name())
	}
}

// waitReady waits for the inner half's inner.json.
func waitReady(ctx context.Context, path string, exited <-chan error, logFile string) (ready, error) {
	var in ready
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return in, ctx.Err()
		case err := <-exited:
			b, _ := os.ReadFile(logFile)
			return in, fmt.Errorf("the inner half exited before it was ready (%v):\n%s", err, b)
		case <-tick.C:
		}
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		return in, json.Unmarshal(b, &in)
	}
}

// writeHostFiles writes the host's view: a kubeconfig for the forwarded
// API server, Argo CD's token and admin password.
func writeHostFiles(o options, in ready) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["hnp-run"] = &clientcmdapi.Cluster{Server: "https://" + o.kubeAddr, CertificateAuthorityData: in.CA}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: in.Token}
	cfg.Contexts["hnp-run"] = &clientcmdapi.Context{Cluster: "hnp-run", AuthInfo: "admin"}
	cfg.CurrentContext = "hnp-run"
	if err := clientcmd.WriteToFile(*cfg, filepath.Join(o.dir, "kubeconfig")); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(o.dir, "kube-token"), []byte(in.Token)); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(o.dir, "ca.crt"), in.CA); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(o.dir, "argocd-token"), []byte(in.ArgoToken)); err != nil {
		return err
	}
	return writeFile(filepath.Join(o.dir, "argocd-admin-password"), []byte(in.ArgoAdminPw))
}
