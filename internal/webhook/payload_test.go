package webhook

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSamplesOfEveryNetBoxVersion(t *testing.T) {
	files, err := filepath.Glob("../../webhooks/samples/netbox-*/*.json")
	require.NoError(t, err)
	versions := map[string]bool{}
	for _, f := range files {
		versions[filepath.Base(filepath.Dir(f))] = true
	}
	for _, v := range []string{"netbox-4.3", "netbox-4.4", "netbox-4.5", "netbox-4.6", "netbox-4.7"} {
		require.True(t, versions[v], "no sample for %s", v)
	}
	for _, f := range files {
		t.Run(filepath.Join(filepath.Base(filepath.Dir(f)), filepath.Base(f)), func(t *testing.T) {
			body, err := os.ReadFile(f)
			require.NoError(t, err)
			p, err := Parse(body)
			require.NoError(t, err)
			require.True(t, p.IsObjectEvent())
			require.Contains(t, []string{"vpc", "netbox_hedgehog.vpc"}, p.ObjectType)
			require.Positive(t, p.ObjectID)
			require.NotEmpty(t, p.User, "every sample was made by a user")
			require.NotEmpty(t, p.RequestID, "every sample came from a request")
			require.NotEmpty(t, p.Timestamp)
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Payload
		err  string
	}{
		{name: "4.0 bare model", body: `{"event":"created","model":"vpc","username":"a","request_id":"r1","data":{"id":3,"last_updated":"t"}}`,
			want: Payload{Event: "created", ObjectType: "vpc", User: "a", RequestID: "r1", ObjectID: 3, LastUpdated: "t"}},
		{name: "4.7 request object wins", body: `{"event":"deleted","object_type":"netbox_hedgehog.switch","username":"old","request":{"id":"r2","user":"bob"},"data":{"id":"9"},"snapshots":{"prechange":{},"postchange":null}}`,
			want: Payload{Event: "deleted", ObjectType: "netbox_hedgehog.switch", User: "bob", RequestID: "r2", ObjectID: 9}},
		{name: "request user as object", body: `{"event":"updated","object_type":"x.y","request":{"id":7,"user":{"id":1,"username":"carol"}},"data":{"id":1,"fabric":{"id":3}}}`,
			want: Payload{Event: "updated", ObjectType: "x.y", User: "carol", RequestID: "7", ObjectID: 1, Fabric: 3}},
		{name: "fabric id", body: `{"event":"created","object_type":"x.y","data":{"id":2,"fabric":5}}`,
			want: Payload{Event: "created", ObjectType: "x.y", ObjectID: 2, Fabric: 5}},
		{name: "moved to another fabric", body: `{"event":"updated","object_type":"x.y","data":{"id":2,"fabric":5},"snapshots":{"prechange":{"fabric":4},"postchange":{"fabric":5}}}`,
			want: Payload{Event: "updated", ObjectType: "x.y", ObjectID: 2, Fabric: 5, PrevFabric: 4}},
		{name: "no request context", body: `{"event":"updated","object_type":"x.y","request":null,"username":null,"snapshots":null,"data":{"id":1}}`,
			want: Payload{Event: "updated", ObjectType: "x.y", ObjectID: 1}},
		{name: "job event needs no object", body: `{"event":"job_ended","data":{"id":5,"status":"completed"}}`,
			want: Payload{Event: "job_ended"}},
		{name: "empty", body: ``, err: "not a JSON object"},
		{name: "brace", body: `{`, err: "malformed payload"},
		{name: "array", body: `[]`, err: "not a JSON object"},
		{name: "no event", body: `{"object_type":"x.y","data":{"id":1}}`, err: `"event" is missing`},
		{name: "event not string", body: `{"event":3,"data":{"id":1}}`, err: "malformed payload"},
		{name: "no data", body: `{"event":"created","object_type":"x.y"}`, err: `"data" is missing`},
		{name: "data not object", body: `{"event":"created","object_type":"x.y","data":[1]}`, err: `"data" is missing`},
		{name: "no object type", body: `{"event":"created","data":{"id":1}}`, err: `neither "object_type" nor "model"`},
		{name: "bad id", body: `{"event":"created","model":"vpc","data":{"id":"x"}}`, err: `"data.id"`},
		{name: "zero id", body: `{"event":"created","model":"vpc","data":{"id":0}}`, err: `"data.id"`},
		{name: "bad snapshots", body: `{"event":"created","model":"vpc","data":{"id":1},"snapshots":"x"}`, err: `"snapshots"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.body))
			if tt.err != "" {
				require.ErrorIs(t, err, ErrMalformed)
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			p.Data, p.Snapshots = nil, nil
			require.Equal(t, tt.want, p)
		})
	}
}

func TestVerify(t *testing.T) {
	secret, body := []byte("s3cret-s3cret-s3cret"), []byte(`{"event":"created"}`)
	sig := Sign(secret, body)
	require.Len(t, sig, 128)
	require.NoError(t, Verify(secret, body, sig))
	require.ErrorIs(t, Verify(secret, body, ""), ErrMissingSignature)
	require.ErrorIs(t, Verify(secret, append(body, ' '), sig), ErrBadSignature)
	require.ErrorIs(t, Verify([]byte("other"), body, sig), ErrBadSignature)
	require.ErrorIs(t, Verify(secret, body, sig[:64]), ErrBadSignature)
	require.ErrorIs(t, Verify(secret, body, "zz"+sig[2:]), ErrBadSignature)
}
