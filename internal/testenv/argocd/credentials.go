package argocdenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// writeKubeconfig writes cfg as a kubeconfig for Argo CD's processes.
func writeKubeconfig(cfg *rest.Config, path string) error {
	auth := &clientcmdapi.AuthInfo{
		Token: cfg.BearerToken, TokenFile: cfg.BearerTokenFile,
		ClientCertificateData: cfg.CertData, ClientCertificate: cfg.CertFile,
		ClientKeyData: cfg.KeyData, ClientKey: cfg.KeyFile,
		Username: cfg.Username, Password: cfg.Password,
	}
	cluster := &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData,
		CertificateAuthority: cfg.CAFile, InsecureSkipTLSVerify: cfg.Insecure, TLSServerName: cfg.ServerName}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = cluster
	kc.AuthInfos["test"] = auth
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "test", Namespace: Namespace}
	kc.CurrentContext = "test"
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("argocdenv: write kubeconfig: %w", err)
	}
	return nil
}

// clusterConfig is the cluster Secret's "config": how Argo CD reaches the
// API server when an Application names ClusterServer.
func clusterConfig(cfg *rest.Config) ([]byte, error) {
	read := func(data []byte, file string) ([]byte, error) {
		if len(data) > 0 || file == "" {
			return data, nil
		}
		return os.ReadFile(file)
	}
	token := cfg.BearerToken
	if token == "" && cfg.BearerTokenFile != "" {
		b, err := os.ReadFile(cfg.BearerTokenFile)
		if err != nil {
			return nil, err
		}
		token = strings.TrimSpace(string(b))
	}
	cert, err := read(cfg.CertData, cfg.CertFile)
	if err != nil {
		return nil, err
	}
	key, err := read(cfg.KeyData, cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	ca, err := read(cfg.CAData, cfg.CAFile)
	if err != nil {
		return nil, err
	}
	tls := map[string]any{}
	if len(ca) > 0 && !cfg.Insecure {
		tls["caData"] = ca
	} else {
		tls["insecure"] = true
	}
	if len(cert) > 0 {
		tls["certData"], tls["keyData"] = cert, key
	}
	if cfg.ServerName != "" {
		tls["serverName"] = cfg.ServerName
	}
	c := map[string]any{"tlsClientConfig": tls}
	if token != "" {
		c["bearerToken"] = token
	}
	if cfg.Username != "" {
		c["username"], c["password"] = cfg.Username, cfg.Password
	}
	return json.Marshal(c)
}

// adminPassword waits for argocd-server to write argocd-initial-admin-secret.
func adminPassword(ctx context.Context, cfg *rest.Config) (string, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", err
	}
	for {
		s, err := cs.CoreV1().Secrets(Namespace).Get(ctx, "argocd-initial-admin-secret", metav1.GetOptions{})
		if err == nil && len(s.Data["password"]) > 0 {
			return string(s.Data["password"]), nil
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return "", fmt.Errorf("argocdenv: read argocd-initial-admin-secret: %w", err)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("argocdenv: argocd-server wrote no argocd-initial-admin-secret: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// login returns a session token (POST /api/v1/session).
func login(ctx context.Context, base, user, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/session", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("argocdenv: login: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("argocdenv: login: HTTP %d: %s", resp.StatusCode, b)
	}
	var out struct{ Token string }
	if err := json.Unmarshal(b, &out); err != nil || out.Token == "" {
		return "", fmt.Errorf("argocdenv: login: no token in %s", b)
	}
	return out.Token, nil
}
