package webhook

import (
	"os"
	"path/filepath"
	"testing"
)

func seedSamples(f *testing.F) {
	files, _ := filepath.Glob("../../webhooks/samples/netbox-*/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"event":"created","model":"vpc","data":{"id":1}}`))
	f.Add([]byte(`{"event":"deleted","request":{"user":{"username":"x"}},"object_type":"a.b","data":{"id":"2"}}`))
	f.Add([]byte(`{`))
}

// FuzzParse: Parse never panics, and what it accepts as an object event is
// always keyed by a positive id and a non-empty object type.
func FuzzParse(f *testing.F) {
	seedSamples(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := Parse(body)
		if err != nil {
			return
		}
		if p.Event == "" || len(p.Data) == 0 {
			t.Fatalf("accepted payload without event or data: %q", body)
		}
		if p.IsObjectEvent() && (p.ObjectID <= 0 || p.ObjectType == "") {
			t.Fatalf("accepted object event without key: %+v", p)
		}
	})
}

// FuzzVerify: only the exact signature of the exact body verifies.
func FuzzVerify(f *testing.F) {
	seedSamples(f)
	secret := []byte("fuzz-secret-fuzz-secret")
	f.Fuzz(func(t *testing.T, body []byte) {
		sig := Sign(secret, body)
		if err := Verify(secret, body, sig); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
		if err := Verify(secret, append(append([]byte{}, body...), 'x'), sig); err == nil {
			t.Fatal("signature of another body accepted")
		}
		if err := Verify(secret, body, string(body)); err == nil && string(body) != sig {
			t.Fatal("arbitrary header accepted")
		}
	})
}
