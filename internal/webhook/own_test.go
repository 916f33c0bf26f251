package webhook

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOnlyOwnFields(t *testing.T) {
	pre := `{"name":"vpc-1","fabric":3,"spec":{"subnets":{"default":{"subnet":"10.0.3.0/24","vlan":1003}}},"sync_error":"","git_file_path":"","last_synced":null,"last_updated":"a","tags":[]}`
	cases := []struct {
		name, event, post string
		want              bool
	}{
		{"write-back only", EventUpdated, `{"name":"vpc-1","fabric":3,"spec":{"subnets":{"default":{"vlan":1003,"subnet":"10.0.3.0/24"}}},"sync_error":"","git_file_path":"m/vpcs/vpc-1.yaml","last_synced":"2026-11-25T10:00:00Z","last_updated":"b","tags":[]}`, true},
		{"spec changed too", EventUpdated, `{"name":"vpc-1","fabric":3,"spec":{"subnets":{"default":{"subnet":"10.0.4.0/24","vlan":1003}}},"sync_error":"","git_file_path":"x","last_synced":null,"last_updated":"b","tags":[]}`, false},
		{"rename", EventUpdated, `{"name":"vpc-2","fabric":3,"spec":{"subnets":{"default":{"subnet":"10.0.3.0/24","vlan":1003}}},"sync_error":"","git_file_path":"","last_synced":null,"last_updated":"b","tags":[]}`, false},
		{"no change at all", EventUpdated, pre, false},
		{"field removed", EventUpdated, `{"fabric":3,"spec":{"subnets":{"default":{"subnet":"10.0.3.0/24","vlan":1003}}},"sync_error":"x","git_file_path":"","last_synced":null,"last_updated":"a","tags":[]}`, false},
		{"created", EventCreated, `{"name":"vpc-1","sync_error":"x"}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := Payload{Event: c.event, Snapshots: json.RawMessage(`{"prechange":` + pre + `,"postchange":` + c.post + `}`)}
			require.Equal(t, c.want, OnlyOwnFields(p))
		})
	}
	require.False(t, OnlyOwnFields(Payload{Event: EventUpdated}), "no snapshots: processed")
	require.False(t, OnlyOwnFields(Payload{Event: EventUpdated, Snapshots: json.RawMessage(`{"prechange":null,"postchange":{}}`)}))
}

// The real NetBox 4.7 update (an edit made with the sidecar's own token)
// changes the spec: it must be processed.
func TestOnlyOwnFieldsOnRealSample(t *testing.T) {
	b, err := os.ReadFile("../../webhooks/samples/netbox-4.7/updated.json")
	require.NoError(t, err)
	p, err := Parse(b)
	require.NoError(t, err)
	require.NotEmpty(t, p.Snapshots)
	require.Equal(t, "hnp-sidecar", p.User)
	require.False(t, OnlyOwnFields(p))
	_, ok := ownFast(p.Snapshots)
	require.True(t, ok, "NetBox's snapshots take the in-place scan")
}

func FuzzOnlyOwnFields(f *testing.F) {
	f.Add([]byte(`{"prechange":{"a":1,"sync_error":""},"postchange":{"a":1,"sync_error":"x"}}`))
	f.Fuzz(func(t *testing.T, snaps []byte) {
		_ = OnlyOwnFields(Payload{Event: EventUpdated, Snapshots: snaps})
	})
}

// FuzzOwnFastMatchesStd: the in-place scan answers as the encoding/json
// decode does whenever it answers at all.
func FuzzOwnFastMatchesStd(f *testing.F) {
	f.Add([]byte(`{"prechange":{"a":1,"sync_error":""},"postchange":{"a":1,"sync_error":"x"}}`))
	f.Add([]byte(`{"prechange":{"a":1,"last_updated":"a"},"postchange":{"a":1.0,"last_updated":"b","git_file_path":"p"}}`))
	f.Add([]byte(`{"prechange":{"a":1},"PreChange":{"b":1},"postchange":{"a":1,"b":1,"sync_error":"x"}}`))
	f.Add([]byte(`{"prechange":{"a":1,"a":2},"postchange":{"a":2,"sync_error":"x"}}`))
	f.Add([]byte(`{"prechange":null,"postchange":{"sync_error":"x"}}`))
	f.Add([]byte(`{"prechange":{"\u0061":1},"postchange":{"a":1,"sync_error":"x"}}`))
	b, err := os.ReadFile("../../webhooks/samples/netbox-4.7/updated.json")
	require.NoError(f, err)
	p, err := Parse(b)
	require.NoError(f, err)
	f.Add([]byte(p.Snapshots))
	f.Fuzz(func(t *testing.T, snaps []byte) {
		if !json.Valid(snaps) || !isObject(snaps) {
			return
		}
		if got, ok := ownFast(snaps); ok && got != ownStd(snaps) {
			t.Fatalf("fast %v, std %v for %s", got, !got, snaps)
		}
	})
}
