package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMalformed is returned for a body that is not a NetBox webhook payload.
var ErrMalformed = errors.New("webhook: malformed payload")

// Object events; NetBox also sends job_started and job_ended.
const (
	EventCreated = "created"
	EventUpdated = "updated"
	EventDeleted = "deleted"
)

// Payload is the part of a NetBox webhook body the sidecar uses, the same
// for every NetBox version 4.0–4.7.
type Payload struct {
	Event     string
	Timestamp string
	// ObjectType is "app_label.model" (4.4+) or the bare model (4.0–4.3).
	ObjectType string
	// User is username (4.0–4.6) or request.user (4.6+); empty for
	// changes made outside a request.
	User string
	// RequestID is request_id (4.0–4.6) or request.id (4.6+).
	RequestID string
	// ObjectID is data.id; zero for events that are not about an object.
	ObjectID    int64
	LastUpdated string
	// Data is the object as NetBox's REST serializer rendered it.
	Data json.RawMessage
}

// IsObjectEvent reports whether the event is a create, update or delete.
func (p Payload) IsObjectEvent() bool {
	switch p.Event {
	case EventCreated, EventUpdated, EventDeleted:
		return true
	}
	return false
}

type rawPayload struct {
	Event      *string         `json:"event"`
	Timestamp  json.RawMessage `json:"timestamp"`
	Model      json.RawMessage `json:"model"`
	ObjectType json.RawMessage `json:"object_type"`
	Username   json.RawMessage `json:"username"`
	RequestID  json.RawMessage `json:"request_id"`
	Request    json.RawMessage `json:"request"`
	Data       json.RawMessage `json:"data"`
	Snapshots  json.RawMessage `json:"snapshots"`
}

type rawRequest struct {
	ID   json.RawMessage `json:"id"`
	User json.RawMessage `json:"user"`
}

type rawData struct {
	ID          json.RawMessage `json:"id"`
	LastUpdated json.RawMessage `json:"last_updated"`
}

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
}

// Parse decodes a webhook body. Only event and data are required; every
// other key is optional, as it varies across NetBox versions. Unknown keys
// are ignored.
func Parse(body []byte) (Payload, error) {
	var raw rawPayload
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return Payload{}, malformed("body is not a JSON object")
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Payload{}, malformed("%v", err)
	}
	if raw.Event == nil || *raw.Event == "" {
		return Payload{}, malformed(`"event" is missing`)
	}
	p := Payload{Event: *raw.Event, Timestamp: text(raw.Timestamp)}
	if !isObject(raw.Data) {
		return Payload{}, malformed(`"data" is missing or not an object`)
	}
	p.Data = raw.Data
	if raw.Snapshots != nil && !isObject(raw.Snapshots) && !isNull(raw.Snapshots) {
		return Payload{}, malformed(`"snapshots" is not an object`)
	}
	p.ObjectType = text(raw.ObjectType)
	if p.ObjectType == "" {
		p.ObjectType = text(raw.Model)
	}
	p.User, p.RequestID = text(raw.Username), text(raw.RequestID)
	if isObject(raw.Request) {
		var r rawRequest
		if err := json.Unmarshal(raw.Request, &r); err != nil {
			return Payload{}, malformed(`"request": %v`, err)
		}
		if id := text(r.ID); id != "" {
			p.RequestID = id
		}
		if u := user(r.User); u != "" {
			p.User = u
		}
	}
	if !p.IsObjectEvent() {
		return p, nil
	}
	if p.ObjectType == "" {
		return Payload{}, malformed(`neither "object_type" nor "model" is set`)
	}
	var d rawData
	if err := json.Unmarshal(raw.Data, &d); err != nil {
		return Payload{}, malformed(`"data": %v`, err)
	}
	id, err := strconv.ParseInt(text(d.ID), 10, 64)
	if err != nil || id <= 0 {
		return Payload{}, malformed(`"data.id" is not a positive integer`)
	}
	p.ObjectID, p.LastUpdated = id, text(d.LastUpdated)
	return p, nil
}

// text renders a JSON string or number as a string; anything else is "".
func text(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return ""
	}
	if v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return strings.TrimSpace(s)
		}
		return ""
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		return n.String()
	}
	return ""
}

// user reads request.user, a username or an object with "username".
func user(v json.RawMessage) string {
	if isObject(v) {
		var u struct {
			Username json.RawMessage `json:"username"`
		}
		if json.Unmarshal(v, &u) == nil {
			return text(u.Username)
		}
		return ""
	}
	return text(v)
}

func isObject(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] == '{'
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }
