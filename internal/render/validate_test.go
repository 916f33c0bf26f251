package render

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// check validates o without a desired set and compares the problems with
// want, exactly and in order (nil: valid).
func check(t *testing.T, o Object, want ...string) {
	t.Helper()
	var got []string
	for _, err := range Validate(o, nil) {
		require.ErrorIs(t, err, ErrInvalid)
		var p *Problem
		require.True(t, errors.As(err, &p))
		got = append(got, err.Error())
	}
	require.Equal(t, want, got)
}

func TestValidateNames(t *testing.T) {
	for _, tc := range []struct {
		kind, name, ns string
		want           []string
	}{
		{"VPC", "vpc-1", "", nil},
		{"VPC", "vpc-1234567", "default", nil},
		{"VPC", "vpc-1234567a", "", []string{`VPC vpc-1234567a: metadata.name "vpc-1234567a" is 12 characters long; VPC names are at most 11`}},
		{"IPv4Namespace", "ipv4ns-12345", "", []string{`IPv4Namespace ipv4ns-12345: metadata.name "ipv4ns-12345" is 12 characters long; IPv4Namespace names are at most 11`}},
		{"External", "external-123", "", []string{`External external-123: metadata.name "external-123" is 12 characters long; External names are at most 11`}},
		{"Server", "server-with-a-long-name.rack-1", "", nil},
		{"Server", "Server-1", "", []string{`Server Server-1: metadata.name "Server-1" is not a lowercase RFC 1123 name (a-z, 0-9, '-' and '.', starting and ending with a letter or digit)`}},
		{"Server", "", "", []string{`Server : metadata.name is empty`}},
		{"Server", "s", "other", []string{`Server s: metadata.namespace is "other", the fabric only accepts "default"`}},
		{"Server", strings.Repeat("a", 254), "", []string{`Server ` + strings.Repeat("a", 254) + `: metadata.name is 254 characters long, at most 253 are allowed`}},
	} {
		check(t, Object{Kind: kindByName(t, tc.kind), Name: tc.name, Namespace: tc.ns, Spec: validSpec(t, tc.kind)}, tc.want...)
	}
}

func TestValidateMetadata(t *testing.T) {
	o := Object{Kind: kindByName(t, "Server"), Name: "s", Spec: map[string]any{},
		Labels: map[string]any{
			"fabric.githedgehog.com/anything": "dropped, not checked!",
			"team":                            "net",
			"rack":                            12.0,
			"managed":                         true,
			"bad key!":                        "x",
			"ok":                              "has spaces",
			"nested":                          map[string]any{},
		},
		Annotations: map[string]any{"free-text": "anything goes: even spaces", "Bad/Key": "x"},
	}
	check(t, o,
		`Server s: metadata.labels.nested must be a string, number or boolean, got an object`,
		`Server s: metadata.labels key "bad key!" is invalid (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)`,
		`Server s: metadata.labels.ok value "has spaces" is invalid (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)`,
		`Server s: metadata.annotations key "Bad/Key" has an invalid prefix (a lowercase DNS name is required before the '/')`,
	)
}

func TestValidateVPC(t *testing.T) {
	vpc := func(subnets string) Object {
		return Object{Kind: kindByName(t, "VPC"), Name: "vpc-1", Spec: fromJSON(t, `{"subnets":`+subnets+`}`)}
	}
	const p = "VPC vpc-1: "
	check(t, vpc(`{"default":{"subnet":"10.0.1.0/24","gateway":"10.0.1.1","vlan":1001},"b":{"subnet":"10.0.2.0/30","vlan":1002}}`))
	check(t, vpc(`{"default":{"subnet":"10.0.1.0/31","vlan":1001}}`), p+"subnets.default.subnet 10.0.1.0/31 is smaller than /30")
	check(t, vpc(`{"default":{"subnet":"10.0.1.0/24","gateway":"10.0.9.1","vlan":1001}}`), p+"subnets.default.gateway 10.0.9.1 is outside subnet 10.0.1.0/24")
	check(t, vpc(`{"default":{"subnet":"10.0.1.0/24","gateway":"gw","vlan":1001}}`), p+`subnets.default.gateway "gw" is not a valid IPv4 address`)
	check(t, vpc(`{"a":{"subnet":"10.0.1.0/24","vlan":1001},"b":{"subnet":"10.0.2.0/24","vlan":1001}}`), p+"subnets.b.vlan 1001 is also used by subnet a")
	check(t, vpc(`{"a":{"subnet":"10.0.0.0/16","vlan":1001},"b":{"subnet":"10.0.2.0/24","vlan":1002}}`), p+"subnets.b.subnet 10.0.2.0/24 overlaps subnet a (10.0.0.0/16)")
	check(t, vpc(`{"a":{"subnet":"10.0.1.0","vlan":0}}`), p+`subnets.a.subnet "10.0.1.0" is not a valid IPv4 CIDR such as 10.0.1.0/24`, p+"subnets.a.vlan 0 is outside 1–4094")
	check(t, vpc(`{"a":{"subnet":"fd00::/64","vlan":4095}}`), p+`subnets.a.subnet "fd00::/64" is not a valid IPv4 CIDR such as 10.0.1.0/24`, p+"subnets.a.vlan 4095 is outside 1–4094")
	check(t, vpc(`{"a":{"subnet":"10.0.1.0/24"}}`), p+"subnets.a.vlan is missing (a VLAN 1–4094 is required)")
	check(t, vpc(`{"a":{"subnet":"10.0.1.0/24","vlan":"1001"}}`), p+"subnets.a.vlan must be an integer, got a string")
	check(t, vpc(`{"a":{"subnet":"10.0.1.0/24","vlan":1001.5}}`), p+"subnets.a.vlan must be an integer, got a number")
	check(t, vpc(`{"a":{"vlan":1001}}`), p+"subnets.a.subnet is missing")
	check(t, vpc(`{}`), p+"subnets is empty, a VPC needs at least one subnet")
	check(t, vpc(`[]`), p+"subnets must be an object, got a list")
	check(t, Object{Kind: kindByName(t, "VPC"), Name: "vpc-1", Spec: map[string]any{}}, p+"subnets is missing")

	many := map[string]any{}
	for i := range 21 {
		many[string(rune('a'+i))] = map[string]any{"subnet": "10.0." + strconv.Itoa(i) + ".0/24", "vlan": 1000 + i}
	}
	check(t, Object{Kind: kindByName(t, "VPC"), Name: "vpc-1", Spec: map[string]any{"subnets": many}}, p+"subnets has 21 subnets, at most 20 are allowed")
}

func TestValidateNamespaces(t *testing.T) {
	ipv4 := func(subnets string) Object {
		return Object{Kind: kindByName(t, "IPv4Namespace"), Name: "default", Spec: fromJSON(t, `{"subnets":`+subnets+`}`)}
	}
	const p4 = "IPv4Namespace default: "
	check(t, ipv4(`["10.0.0.0/16","10.1.0.0/16"]`))
	check(t, ipv4(`[]`), p4+"subnets is empty, at least one subnet is required")
	check(t, ipv4(`["10.0.0.0/16","10.0.5.0/24"]`), p4+"subnets[1] 10.0.5.0/24 overlaps 10.0.0.0/16")
	check(t, ipv4(`["10.0.0.0/33"]`), p4+`subnets[0] "10.0.0.0/33" is not a valid IPv4 CIDR such as 10.0.1.0/24`)
	check(t, ipv4(`["10.0.0.0/24","10.1.0.0/24","10.2.0.0/24","10.3.0.0/24","10.4.0.0/24","10.5.0.0/24",
		"10.6.0.0/24","10.7.0.0/24","10.8.0.0/24","10.9.0.0/24","10.10.0.0/24"]`), p4+"subnets has 11 subnets, at most 10 are allowed")

	vlan := func(ranges string) Object {
		return Object{Kind: kindByName(t, "VLANNamespace"), Name: "default", Spec: fromJSON(t, `{"ranges":`+ranges+`}`)}
	}
	const pv = "VLANNamespace default: "
	check(t, vlan(`[{"from":1000,"to":2999},{"from":3000,"to":3000}]`))
	check(t, vlan(`[{"from":2000,"to":1000}]`), pv+"ranges[0] from 2000 is greater than to 1000")
	check(t, vlan(`[{"from":0,"to":4095}]`), pv+"ranges[0].from 0 is outside 1–4094", pv+"ranges[0].to 4095 is outside 1–4094")
	check(t, vlan(`[{"from":1000,"to":2000},{"from":2000,"to":2100}]`), pv+"ranges[1] 2000–2100 overlaps range 1000–2000")
	check(t, vlan(`[{"from":1000}]`), pv+"ranges[0].to is missing (a VLAN 1–4094 is required)")
	check(t, vlan(`[]`), pv+"ranges is empty, at least one VLAN range is required")
}

func TestValidateAttachmentAndPeering(t *testing.T) {
	att := func(spec string) Object {
		return Object{Kind: kindByName(t, "VPCAttachment"), Name: "a", Spec: fromJSON(t, spec)}
	}
	const pa = "VPCAttachment a: "
	check(t, att(`{"subnet":"vpc-1/default","connection":"c"}`))
	check(t, att(`{"subnet":"vpc-1","connection":"c","nativeVLAN":true}`)) // normalised to vpc-1/default
	check(t, att(`{"subnet":"vpc-1/","connection":"c"}`), pa+`subnet "vpc-1/" must be "<vpc>/<subnet>" (or a bare VPC name for its default subnet)`)
	check(t, att(`{"subnet":"a/b/c","connection":"c"}`), pa+`subnet "a/b/c" must be "<vpc>/<subnet>" (or a bare VPC name for its default subnet)`)
	check(t, att(`{"subnet":"","nativeVLAN":"yes"}`), pa+"subnet is empty", pa+"connection is missing", pa+"nativeVLAN must be a boolean, got a string")

	peer := func(spec string) Object {
		return Object{Kind: kindByName(t, "VPCPeering"), Name: "p", Spec: fromJSON(t, spec)}
	}
	const pp = "VPCPeering p: "
	check(t, peer(`{"permit":[{"vpc-1":{},"vpc-2":{"subnets":["default"]}}]}`))
	check(t, peer(`{"permit":[{"vpc-1":{}}]}`), pp+"permit names 1 VPCs (vpc-1); a peering names exactly two")
	check(t, peer(`{"permit":[{"vpc-1":{},"vpc-2":{},"vpc-3":{}}]}`), pp+"permit names 3 VPCs (vpc-1, vpc-2, vpc-3); a peering names exactly two")
	check(t, peer(`{"permit":[{"vpc-1":{},"vpc-2":{}},{"vpc-2":{}}]}`), pp+"permit[1] must name both VPCs vpc-1 and vpc-2")
	check(t, peer(`{"permit":[]}`), pp+"permit names 0 VPCs (); a peering names exactly two")
	check(t, peer(`{}`), pp+"permit is missing")
	check(t, peer(`{"remote":"x","permit":[{"vpc-1":{"subnets":[]},"vpc-2":[]}]}`),
		pp+"remote is deprecated and no longer supported by the fabric",
		pp+"permit[0].vpc-1.subnets has 0 subnets, 1–10 are allowed (leave it out for all subnets)",
		pp+"permit[0].vpc-2 must be an object, got a list")
}

func TestValidateConnectionAndSwitch(t *testing.T) {
	conn := func(spec string) Object {
		return Object{Kind: kindByName(t, "Connection"), Name: "c", Spec: fromJSON(t, spec)}
	}
	const pc = "Connection c: "
	check(t, conn(`{"unbundled":{"link":{"server":{"port":"s/e1"},"switch":{"port":"l/E1/1"}}}}`))
	check(t, conn(`{"mclagDomain":{"peerLinks":[{"switch1":{"port":"l1/E1/1"},"switch2":{"port":"l2/E1/1"}}]}}`))
	check(t, conn(`{"bundled":null,"unbundled":{"link":{"server":{"port":"s/e1"},"switch":{"port":"l/E1/1"}}}}`)) // null is not set
	check(t, conn(`{}`), pc+"spec sets no connection type; exactly one of unbundled, bundled, mclag, eslag, mclagDomain, fabric, mesh, gateway, vpcLoopback, external, staticExternal is required")
	check(t, conn(`{"unbundled":{},"bundled":{}}`), pc+"spec sets 2 connection types (unbundled, bundled); exactly one is allowed")
	check(t, conn(`{"unbundled":"x"}`), pc+"unbundled must be an object, got a string")
	check(t, conn(`{"unbundled":{"link":{"server":{"port":"s"},"switch":{"port":5}}}}`),
		pc+`unbundled.link.server.port "s" must be a string "<device>/<port>"`,
		pc+`unbundled.link.switch.port a number must be a string "<device>/<port>"`)

	sw := func(spec string) Object {
		return Object{Kind: kindByName(t, "Switch"), Name: "s", Spec: fromJSON(t, spec)}
	}
	check(t, sw(`{"role":"spine"}`))
	check(t, sw(`{}`), "Switch s: role is missing")
	check(t, sw(`{"role":"leaf"}`), `Switch s: role "leaf" is not one of spine, server-leaf, border-leaf, mixed-leaf, virtual-edge`)
}

// validSpec is a minimal valid spec of kind k.
func validSpec(t *testing.T, k string) map[string]any {
	switch k {
	case "VPC":
		return fromJSON(t, `{"subnets":{"default":{"subnet":"10.0.1.0/24","vlan":1001}}}`)
	case "IPv4Namespace":
		return fromJSON(t, `{"subnets":["10.0.0.0/16"]}`)
	}
	return map[string]any{}
}
