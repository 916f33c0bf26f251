package config

import (
	"errors"
	"fmt"
)

// ClientConfig is what the client commands (resync, state) need: where the sidecar is
// (HNP_SIDECAR_URL) and its API token (HNP_API_TOKEN).
type ClientConfig struct {
	SidecarURL string
	APIToken   Secret
}

// LoadClientConfig reads the variables the client commands need.
func LoadClientConfig(getenv Getenv) (ClientConfig, error) {
	var c Config
	var vars []variable
	for _, v := range allVariables() {
		if v.name == "HNP_SIDECAR_URL" || v.name == "HNP_API_TOKEN" {
			vars = append(vars, v)
		}
	}
	if err := errors.Join(load(getenv, vars, &c)...); err != nil {
		return ClientConfig{}, fmt.Errorf("config: %w", err)
	}
	return ClientConfig{SidecarURL: c.NetBox.SidecarURL, APIToken: c.APIToken}, nil
}
