package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

// BootstrapConfig is what `hnp-sidecar bootstrap` needs.
type BootstrapConfig struct {
	NetBoxURL   string
	NetBoxToken Secret
	// NetBoxCABundle is HNP_NETBOX_CA_FILE's content.
	NetBoxCABundle []byte
	SidecarURL     string
	WebhookSecret  Secret
}

var (
	netboxURLVar = variable{name: "HNP_NETBOX_URL", help: "NetBox's base URL, e.g. https://netbox.example.com",
		set: func(c *Config, v string) error {
			c.NetBox.URL = strings.TrimRight(v, "/")
			if v == "" {
				return nil
			}
			return checkHTTPURL(v)
		}}
	netboxTokenVar = variable{name: "HNP_NETBOX_TOKEN", secret: true, help: "NetBox API token of the sidecar's user: v2 nbt_<key>.<secret> or v1 (40 hex)",
		set: func(c *Config, v string) error {
			c.NetBox.Token = Secret(v)
			if v == "" {
				return nil
			}
			if _, err := netbox.AuthHeader(v); err != nil {
				return errors.New("neither a v1 token (40 hex characters) nor a v2 token (nbt_<key>.<secret>)")
			}
			return nil
		}}
	netboxCAVar = variable{name: "HNP_NETBOX_CA_FILE", help: "PEM bundle of CA certificates trusted for NetBox's HTTPS beside the system's roots",
		set: caFile(func(c *Config) (*string, *[]byte) { return &c.NetBox.CAFile, &c.NetBox.CABundle })}
	bootstrapVariables = []variable{
		required(netboxURLVar),
		required(netboxTokenVar),
		netboxCAVar,
		{name: "HNP_SIDECAR_URL", required: true, help: "URL at which NetBox reaches the sidecar, e.g. http://hnp-sidecar:8090 (bootstrap)",
			set: func(c *Config, v string) error {
				c.NetBox.SidecarURL = strings.TrimRight(v, "/")
				return checkHTTPURL(v)
			}},
		{name: "HNP_WEBHOOK_SECRET", required: true, secret: true, help: "secret NetBox signs webhooks with; at least 16 characters",
			set: webhookSecret(func(c *Config) *Secret { return &c.WebhookSecret })},
	}
)

func required(v variable) variable {
	v.required = true
	return v
}

func checkHTTPURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("not an http:// or https:// URL")
	}
	return nil
}

// LoadBootstrapConfig reads the variables bootstrap needs.
func LoadBootstrapConfig(getenv Getenv) (BootstrapConfig, error) {
	var c Config
	if err := errors.Join(load(getenv, bootstrapVariables, &c)...); err != nil {
		return BootstrapConfig{}, fmt.Errorf("config: %w", err)
	}
	return BootstrapConfig{NetBoxURL: c.NetBox.URL, NetBoxToken: c.NetBox.Token, NetBoxCABundle: c.NetBox.CABundle, SidecarURL: c.NetBox.SidecarURL, WebhookSecret: c.WebhookSecret}, nil
}
