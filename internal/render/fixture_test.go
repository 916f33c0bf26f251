package render

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/fabric"
)

var testFabric = Fabric{ID: 1, Name: "fabric-1"}

// fromJSON decodes a spec the way NetBox decoding does (numbers → float64).
func fromJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}

// viaJSON round-trips v through JSON, as if it had come from NetBox.
func viaJSON(t testing.TB, v map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return fromJSON(t, string(b))
}

// objects converts generated plugin objects, numbering them from 1.
func objects(t testing.TB, gen []fabric.Object) []Object {
	t.Helper()
	out := make([]Object, len(gen))
	for i, g := range gen {
		out[i] = Object{Kind: g.Kind, ID: int64(i + 1), Name: g.Name, Namespace: "default", Spec: viaJSON(t, g.Spec)}
	}
	return out
}

// fixture is the sample fabric plus one object of each kind the sample
// lacks (External, ExternalAttachment, ExternalPeering and the external
// Connection they need), with a few edits that exercise rendering: a VPC
// with two subnets, DHCP, labels and annotations, and an attachment whose
// subnet is a bare VPC name.
func fixture(t testing.TB) []Object {
	t.Helper()
	gen := fabric.Generate(fabric.SampleOptions())
	// The sample has no SwitchGroup (the real plugin refuses its empty
	// spec); rendering one, and leaves that name it, is still tested.
	sg := fabric.Object{Kind: kindByName(t, "SwitchGroup"), Name: "eslag-1", Spec: map[string]any{}}
	gen = append(gen[:2], append([]fabric.Object{sg}, gen[2:]...)...)
	objs := objects(t, gen)
	for i := range objs {
		o := &objs[i]
		switch {
		case o.Kind.Name == "Switch" && (o.Name == "leaf-01" || o.Name == "leaf-02"):
			o.Spec["groups"] = []any{"eslag-1"}
			o.Spec["redundancy"] = map[string]any{"group": "eslag-1", "type": "eslag"}
		case o.Kind.Name == "VPC" && o.Name == "vpc-01":
			o.Spec = fromJSON(t, `{"ipv4Namespace":"default","vlanNamespace":"default","subnets":{
				"default":{"subnet":"10.0.1.0/24","gateway":"10.0.1.1","vlan":1001},
				"backend":{"subnet":"10.0.101.0/24","vlan":1101,"gateway":"","isolated":true,
					"dhcp":{"enable":true,"range":{"start":"10.0.101.10","end":"10.0.101.99"},
						"options":{"leaseTimeSeconds":3600,"interfaceMTU":9036,"dnsServers":["10.0.101.2"]}}}}}`)
			o.Labels = map[string]any{"team": "network", "tier": 2.0, "fabric.githedgehog.com/owner": "dropped"}
			o.Annotations = map[string]any{"netbox.example.com/ticket": "NET-1234"}
		case o.Kind.Name == "VPCAttachment" && o.Name == "vpc-02--server-02":
			o.Spec["subnet"] = "vpc-02"
		}
	}
	n := int64(len(objs))
	add := func(k, name, spec string) {
		n++
		objs = append(objs, Object{Kind: kindByName(t, k), ID: n, Name: name, Namespace: "default", Spec: fromJSON(t, spec)})
	}
	add("Connection", "leaf-04--external", `{"external":{"link":{"switch":{"port":"leaf-04/E1/10"}}}}`)
	add("External", "ext-1", `{"ipv4Namespace":"default","inboundCommunity":"65102:5000","outboundCommunity":"50000:50001"}`)
	add("ExternalAttachment", "ext-1--leaf-04", `{"connection":"leaf-04--external","external":"ext-1",
		"neighbor":{"asn":65102,"ip":"100.100.0.6"},"switch":{"ip":"100.100.0.1/24","vlan":100}}`)
	add("ExternalPeering", "vpc-01--ext-1", `{"permit":{"vpc":{"name":"vpc-01","subnets":["default"]},
		"external":{"name":"ext-1","prefixes":[{"prefix":"0.0.0.0/0"}]}}}`)
	return objs
}

// goldenNames picks one realistic object of every kind for golden files.
func goldenNames() map[string]string {
	return map[string]string{
		"IPv4Namespace":      "default",
		"VLANNamespace":      "default",
		"SwitchGroup":        "eslag-1",
		"Switch":             "leaf-01",
		"Server":             "server-01",
		"Connection":         "server-01--eslag--leaf-01--leaf-02",
		"VPC":                "vpc-01",
		"External":           "ext-1",
		"VPCAttachment":      "vpc-02--server-02",
		"VPCPeering":         "vpc-01--vpc-02",
		"ExternalAttachment": "ext-1--leaf-04",
		"ExternalPeering":    "vpc-01--ext-1",
	}
}

func kindByName(t testing.TB, name string) kind.Kind {
	t.Helper()
	for _, k := range kind.CRs() {
		if k.Name == name {
			return k
		}
	}
	t.Fatalf("no kind %s", name)
	return kind.Kind{}
}

// find returns the fixture object of kind k called name.
func find(t testing.TB, objs []Object, k, name string) Object {
	t.Helper()
	for _, o := range objs {
		if o.Kind.Name == k && o.Name == name {
			return o
		}
	}
	t.Fatalf("no %s %s in fixture", k, name)
	return Object{}
}
