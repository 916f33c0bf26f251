// Package webhooks holds, as data, the NetBox Webhook and EventRules that
// `hnp-sidecar bootstrap` installs into NetBox so every Hedgehog change is
// sent to the sidecar. See hnp-sidecar.json.
package webhooks

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

//go:embed hnp-sidecar.json
var definitions []byte

// Webhook is the NetBox webhook that points at the sidecar. Its URL is the
// sidecar's public URL + PayloadPath; its secret comes from configuration.
type Webhook struct {
	Name            string `json:"name"`
	Description     string `json:"description"`
	PayloadPath     string `json:"payload_path"`
	HTTPMethod      string `json:"http_method"`
	HTTPContentType string `json:"http_content_type"`
	SSLVerification bool   `json:"ssl_verification"`
}

// EventRule makes NetBox call the webhook for events on object types.
type EventRule struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	ObjectTypes []string `json:"object_types"`
	EventTypes  []string `json:"event_types"`
	Enabled     bool     `json:"enabled"`
}

// Definitions is the whole set.
type Definitions struct {
	Webhook    Webhook     `json:"webhook"`
	EventRules []EventRule `json:"event_rules"`
}

// Load parses the embedded definitions.
func Load() (Definitions, error) {
	var d Definitions
	if err := json.Unmarshal(definitions, &d); err != nil {
		return Definitions{}, fmt.Errorf("webhooks: definitions: %w", err)
	}
	return d, nil
}
