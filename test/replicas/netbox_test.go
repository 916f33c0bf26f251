package replicas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"time"

	netboxenv "github.com/githedgehog/hnp-sidecar/internal/testenv/netbox"
)

const plugin = "/api/plugins/hedgehog/"

// nbClient calls NetBox's REST API as a person (the admin user), so the
// sidecar does not take the changes for its own.
type nbClient struct {
	url, auth string
	http      *http.Client
}

// call sends a JSON request and decodes the answer into out (when not nil).
func (c nbClient) call(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		return err
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil && len(b) > 0 {
		return json.Unmarshal(b, out)
	}
	return nil
}

// adminClient provisions a v2 token for NetBox's admin user.
func adminClient(env netboxenv.Env) (nbClient, error) {
	c := nbClient{url: env.URL, http: &http.Client{Timeout: 60 * time.Second}}
	var tok map[string]any
	if err := c.call(http.MethodPost, "/api/users/tokens/provision/",
		map[string]string{"username": env.AdminUser, "password": env.AdminPassword}, &tok); err != nil {
		return c, err
	}
	c.auth = fmt.Sprintf("Bearer nbt_%s.%s", tok["key"], tok["token"])
	return c, nil
}

// bootstrap points NetBox's webhook at url (`hnp-sidecar bootstrap`).
func bootstrap(bin string, env netboxenv.Env, url, secret string) error {
	cmd := exec.Command(bin, "bootstrap")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HNP_NETBOX_URL=" + env.URL, "HNP_NETBOX_TOKEN=" + env.Token,
		"HNP_SIDECAR_URL=" + url, "HNP_WEBHOOK_SECRET=" + secret}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("bootstrap: %w\n%s", err, out)
	}
	return nil
}

// vpcSpec is a VPC's spec whose one subnet's VLAN carries seq: the number
// lands in the rendered file ("vlan: <seq>"), so every commit shows which
// edit of the object it holds.
func vpcSpec(n, seq int) map[string]any {
	return map[string]any{"subnets": map[string]any{"default": map[string]any{
		"subnet": fmt.Sprintf("10.%d.%d.0/24", 100+n/256, n%256), "vlan": seq}}}
}

type vpc struct {
	ID     int64          `json:"id"`
	Name   string         `json:"name"`
	Fabric any            `json:"fabric"`
	Spec   map[string]any `json:"spec"`
}

// fabricID is the fabric field of a VPC as NetBox lists it (an id, or a
// nested object with one).
func (v vpc) fabricID() int64 {
	switch f := v.Fabric.(type) {
	case float64:
		return int64(f)
	case map[string]any:
		if id, ok := f["id"].(float64); ok {
			return int64(id)
		}
	}
	return 0
}

// seq is the VLAN of the VPC's default subnet (-1 if it has none).
func (v vpc) seq() int {
	if s, ok := v.Spec["subnets"].(map[string]any); ok {
		if d, ok := s["default"].(map[string]any); ok {
			if n, ok := d["vlan"].(float64); ok {
				return int(n)
			}
		}
	}
	return -1
}

// netboxVPCs reads every VPC of the fabrics from NetBox: fabric → name → seq.
func (c nbClient) netboxVPCs(fabrics map[int64]string) (map[int64]map[string]int, error) {
	out := map[int64]map[string]int{}
	for id := range fabrics {
		out[id] = map[string]int{}
	}
	for offset := 0; ; offset += 1000 {
		var page struct {
			Results []vpc `json:"results"`
		}
		if err := c.call(http.MethodGet, fmt.Sprintf("%svpcs/?limit=1000&offset=%d", plugin, offset), nil, &page); err != nil {
			return nil, err
		}
		for _, v := range page.Results {
			if m, ok := out[v.fabricID()]; ok {
				m[v.Name] = v.seq()
			}
		}
		if len(page.Results) < 1000 {
			return out, nil
		}
	}
}
