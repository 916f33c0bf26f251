package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
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
	// Fabric is data.fabric (the plugin's CR objects carry their fabric's
	// id); zero when absent or not an id.
	Fabric int64
	// PrevFabric is snapshots.prechange.fabric: where an object that moved
	// to another fabric was before; zero when unknown.
	PrevFabric int64
	// Data is the object as NetBox's REST serializer rendered it.
	Data json.RawMessage
	// Snapshots is the raw "snapshots" object of an object event (prechange
	// and postchange), nil when absent.
	Snapshots json.RawMessage
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
	event, timestamp, model, objectType, username, requestID, request, data, snapshots []byte
}

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
}

// split finds the members Parse uses; the last of a repeated key wins, as
// with encoding/json.
func split(body []byte) (rawPayload, error) {
	var r rawPayload
	err := eachField(body, func(k, v []byte) {
		switch string(k) {
		case "event":
			r.event = v
		case "timestamp":
			r.timestamp = v
		case "model":
			r.model = v
		case "object_type":
			r.objectType = v
		case "username":
			r.username = v
		case "request_id":
			r.requestID = v
		case "request":
			r.request = v
		case "data":
			r.data = v
		case "snapshots":
			r.snapshots = v
		}
	})
	return r, err
}

// Parse decodes a webhook body. Only event and data are required; every
// other key is optional, as it varies across NetBox versions. Unknown keys
// are ignored.
func Parse(body []byte) (Payload, error) {
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return Payload{}, malformed("body is not a JSON object")
	}
	if !json.Valid(body) {
		var v any
		return Payload{}, malformed("%v", json.Unmarshal(body, &v))
	}
	raw, err := split(body)
	if err != nil {
		return Payload{}, malformed("%v", err)
	}
	var event string
	if raw.event != nil && !isNull(raw.event) && json.Unmarshal(raw.event, &event) != nil {
		return Payload{}, malformed(`"event" is not a string`)
	}
	if event == "" {
		return Payload{}, malformed(`"event" is missing`)
	}
	p := Payload{Event: event, Timestamp: text(raw.timestamp)}
	if !isObject(raw.data) {
		return Payload{}, malformed(`"data" is missing or not an object`)
	}
	p.Data = raw.data
	if raw.snapshots != nil && !isObject(raw.snapshots) && !isNull(raw.snapshots) {
		return Payload{}, malformed(`"snapshots" is not an object`)
	}
	p.ObjectType = text(raw.objectType)
	if p.ObjectType == "" {
		p.ObjectType = text(raw.model)
	}
	p.User, p.RequestID = text(raw.username), text(raw.requestID)
	if isObject(raw.request) {
		_ = eachField(raw.request, func(k, v []byte) {
			switch string(k) {
			case "id":
				if id := text(v); id != "" {
					p.RequestID = id
				}
			case "user":
				if u := user(v); u != "" {
					p.User = u
				}
			}
		})
	}
	if !p.IsObjectEvent() {
		return p, nil
	}
	if p.ObjectType == "" {
		return Payload{}, malformed(`neither "object_type" nor "model" is set`)
	}
	var id, lastUpdated, fabric []byte
	_ = eachField(raw.data, func(k, v []byte) {
		switch string(k) {
		case "id":
			id = v
		case "last_updated":
			lastUpdated = v
		case "fabric":
			fabric = v
		}
	})
	n, err := strconv.ParseInt(text(id), 10, 64)
	if err != nil || n <= 0 {
		return Payload{}, malformed(`"data.id" is not a positive integer`)
	}
	p.ObjectID, p.LastUpdated = n, text(lastUpdated)
	p.Fabric = fabricID(fabric)
	if isObject(raw.snapshots) {
		p.Snapshots = raw.snapshots
		_ = eachField(raw.snapshots, func(k, v []byte) {
			if string(k) == "prechange" && isObject(v) {
				_ = eachField(v, func(k, v []byte) {
					if string(k) == "fabric" {
						p.PrevFabric = fabricID(v)
					}
				})
			}
		})
	}
	return p, nil
}

// fabricID reads a foreign key: an id, a numeric string or {"id": ...}.
func fabricID(v []byte) int64 {
	if isObject(v) {
		_ = eachField(v, func(k, val []byte) {
			if string(k) == "id" {
				v = val
			}
		})
	}
	if f, err := strconv.ParseInt(text(v), 10, 64); err == nil && f > 0 {
		return f
	}
	return 0
}

// text renders a JSON string or number as a string; anything else is "".
func text(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return ""
	}
	if v[0] == '"' {
		if bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v) { // no escapes: the bytes are the string
			return strings.TrimSpace(string(v[1 : len(v)-1]))
		}
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
		var name string
		_ = eachField(v, func(k, val []byte) {
			if string(k) == "username" {
				name = text(val)
			}
		})
		return name
	}
	return text(v)
}

func isObject(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] == '{'
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }
