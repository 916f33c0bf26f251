package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
)

// parseStd is the straightforward encoding/json parser that Parse replaced
// for speed; FuzzParseMatchesStd checks they agree.
type stdPayload struct {
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

type stdRequest struct {
	ID   json.RawMessage `json:"id"`
	User json.RawMessage `json:"user"`
}

type stdData struct {
	ID          json.RawMessage `json:"id"`
	LastUpdated json.RawMessage `json:"last_updated"`
}

func malformedStd(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
}

// Parse decodes a webhook body. Only event and data are required; every
// other key is optional, as it varies across NetBox versions. Unknown keys
// are ignored.
func parseStd(body []byte) (Payload, error) {
	var raw stdPayload
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return Payload{}, malformedStd("body is not a JSON object")
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Payload{}, malformedStd("%v", err)
	}
	if raw.Event == nil || *raw.Event == "" {
		return Payload{}, malformedStd(`"event" is missing`)
	}
	p := Payload{Event: *raw.Event, Timestamp: text(raw.Timestamp)}
	if !isObject(raw.Data) {
		return Payload{}, malformedStd(`"data" is missing or not an object`)
	}
	p.Data = raw.Data
	if raw.Snapshots != nil && !isObject(raw.Snapshots) && !isNull(raw.Snapshots) {
		return Payload{}, malformedStd(`"snapshots" is not an object`)
	}
	p.ObjectType = text(raw.ObjectType)
	if p.ObjectType == "" {
		p.ObjectType = text(raw.Model)
	}
	p.User, p.RequestID = text(raw.Username), text(raw.RequestID)
	if isObject(raw.Request) {
		var r stdRequest
		if err := json.Unmarshal(raw.Request, &r); err != nil {
			return Payload{}, malformedStd(`"request": %v`, err)
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
		return Payload{}, malformedStd(`neither "object_type" nor "model" is set`)
	}
	var d stdData
	if err := json.Unmarshal(raw.Data, &d); err != nil {
		return Payload{}, malformedStd(`"data": %v`, err)
	}
	id, err := strconv.ParseInt(text(d.ID), 10, 64)
	if err != nil || id <= 0 {
		return Payload{}, malformedStd(`"data.id" is not a positive integer`)
	}
	p.ObjectID, p.LastUpdated = id, text(d.LastUpdated)
	return p, nil
}

// FuzzParseMatchesStd: the single-pass Parse accepts and rejects exactly
// what a plain encoding/json decode does, with the same result. Inputs with
// upper-case letters are skipped: encoding/json matches keys
// case-insensitively, Parse (like NetBox) does not.
func FuzzParseMatchesStd(f *testing.F) {
	seedSamples(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		if !bytes.Equal(bytes.ToLower(body), body) {
			return
		}
		got, gotErr := Parse(body)
		want, wantErr := parseStd(body)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("Parse err %v, std err %v for %q", gotErr, wantErr, body)
		}
		if gotErr != nil {
			return
		}
		if !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("data %q != %q", got.Data, want.Data)
		}
		got.Data, want.Data = nil, nil
		got.Fabric, got.PrevFabric, got.Snapshots = 0, 0, nil // parseStd predates them
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Fatalf("Parse %+v != std %+v for %q", got, want, body)
		}
	})
}
