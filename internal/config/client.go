package config

import (
	"errors"
	"fmt"
	"strings"
)

// ClientConfig is what the client commands (resync, state) need: where the sidecar is
// (HNP_SIDECAR_URL) and its API token (HNP_API_TOKEN).
type ClientConfig struct {
	SidecarURL string
	APIToken   Secret
}

// clientSidecarURL is HNP_SIDECAR_URL as the client commands read it: the
// running sidecar's API (bootstrap reads the same name as the URL NetBox
// posts to, which is usually the same service).
var clientSidecarURL = variable{name: "HNP_SIDECAR_URL", required: true,
	help: "URL of the running sidecar's API, e.g. http://hnp-sidecar:8090 (or --sidecar-url)",
	set: func(c *Config, v string) error {
		c.NetBox.SidecarURL = strings.TrimRight(v, "/")
		return checkHTTPURL(v)
	}}

// LoadClientConfig reads the variables the client commands need.
func LoadClientConfig(getenv Getenv) (ClientConfig, error) {
	var c Config
	vars := []variable{clientSidecarURL}
	for _, v := range allVariables() {
		if v.name == "HNP_API_TOKEN" {
			vars = append(vars, v)
		}
	}
	if err := errors.Join(load(getenv, vars, &c)...); err != nil {
		return ClientConfig{}, fmt.Errorf("config: %w", err)
	}
	return ClientConfig{SidecarURL: c.NetBox.SidecarURL, APIToken: c.APIToken}, nil
}
