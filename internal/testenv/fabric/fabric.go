// Package fabric generates Hedgehog fabrics as NetBox plugin objects: the
// small sample fabric `make run` loads, and fabrics of any size for
// benchmarks. Specs follow the v1beta1 CRDs of the Hedgehog fabric.
package fabric

import (
	"fmt"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
)

// Object is one plugin object to create under a fabric.
type Object struct {
	Kind kind.Kind
	Name string
	Spec map[string]any
}

// Options size a generated fabric.
type Options struct {
	Spines int
	Leaves int // the first two form an ESLAG pair
	// Servers: the first ESLAGServers are dual-homed to the ESLAG pair, the
	// rest attach unbundled to the other leaves in turn.
	Servers      int
	ESLAGServers int
	VPCs         int
}

// SampleOptions is the fabric `make run` loads: 2 spines, 4 leaves with an
// ESLAG pair, 10 servers, one VLAN and one IPv4 namespace, two VPCs.
func SampleOptions() Options {
	return Options{Spines: 2, Leaves: 4, Servers: 10, ESLAGServers: 4, VPCs: 2}
}

// ForSwitches sizes a fabric of n switches (n ≥ 4) for benchmarks: one spine
// per eight switches, ten servers per leaf, one VPC per leaf.
func ForSwitches(n int) Options {
	n = max(n, 4)
	spines := max(2, n/8)
	leaves := n - spines
	return Options{Spines: spines, Leaves: leaves, Servers: 10 * leaves, ESLAGServers: 4, VPCs: leaves}
}

func kindOf(name string) kind.Kind {
	k, ok := kind.Named(name)
	if !ok {
		panic("fabric: unknown kind " + name)
	}
	return k
}

// Generate returns the objects in sync-wave order: every object comes after
// those it refers to.
func Generate(o Options) []Object {
	var out []Object
	add := func(k, name string, spec map[string]any) {
		out = append(out, Object{Kind: kindOf(k), Name: name, Spec: spec})
	}

	add("IPv4Namespace", "default", map[string]any{"subnets": []any{"10.0.0.0/16"}})
	add("VLANNamespace", "default", map[string]any{"ranges": []any{map[string]any{"from": 1000, "to": 2999}}})
	// No SwitchGroup: its spec has no fields, and the plugin refuses an
	// empty spec, so the real plugin cannot hold one (nor the leaves'
	// groups and redundancy that would name it).
	spines, leaves := names("spine", o.Spines), names("leaf", o.Leaves)
	for i, s := range spines {
		add("Switch", s, map[string]any{"role": "spine", "asn": 65100, "description": "spine",
			"ip": ip("172.30.0", i+1, 21), "protocolIP": ip("172.30.8", i+1, 32)})
	}
	for i, l := range leaves {
		spec := map[string]any{"role": "server-leaf", "asn": 65101 + i, "description": "leaf",
			"ip": ip("172.30.0", 100+i, 21), "protocolIP": ip("172.30.8", 100+i, 32),
			"vtepIP": ip("172.30.12", 100+i, 32), "vlanNamespaces": []any{"default"}}
		add("Switch", l, spec)
	}
	servers := names("server", o.Servers)
	for _, s := range servers {
		add("Server", s, map[string]any{"description": "server"})
	}
	for si, s := range spines {
		for li, l := range leaves {
			add("Connection", s+"--fabric--"+l, map[string]any{"fabric": map[string]any{"links": []any{map[string]any{
				"spine": map[string]any{"port": fmt.Sprintf("%s/E1/%d", s, li+1), "ip": fmt.Sprintf("172.30.128.%d/31", 2*(si*len(leaves)+li)%256)},
				"leaf":  map[string]any{"port": fmt.Sprintf("%s/E1/%d", l, 49+si), "ip": fmt.Sprintf("172.30.128.%d/31", (2*(si*len(leaves)+li)+1)%256)},
			}}}})
		}
	}
	conns := make([]string, len(servers))
	for i, s := range servers {
		if i < o.ESLAGServers && len(leaves) >= 2 {
			conns[i] = fmt.Sprintf("%s--eslag--%s--%s", s, leaves[0], leaves[1])
			add("Connection", conns[i], map[string]any{"eslag": map[string]any{"links": []any{
				link(s+"/enp2s1", fmt.Sprintf("%s/E1/%d", leaves[0], i+1)),
				link(s+"/enp2s2", fmt.Sprintf("%s/E1/%d", leaves[1], i+1)),
			}}})
			continue
		}
		others := leaves
		if len(leaves) > 2 {
			others = leaves[2:]
		}
		l, port := others[i%len(others)], i/len(others)+1+o.ESLAGServers
		conns[i] = fmt.Sprintf("%s--unbundled--%s", s, l)
		add("Connection", conns[i], map[string]any{"unbundled": map[string]any{"link": link(s+"/enp2s1", fmt.Sprintf("%s/E1/%d", l, port))}})
	}
	vpcs := names("vpc", o.VPCs)
	for i, v := range vpcs {
		add("VPC", v, map[string]any{"ipv4Namespace": "default", "vlanNamespace": "default",
			"subnets": map[string]any{"default": map[string]any{
				"subnet": fmt.Sprintf("10.0.%d.0/24", i+1), "gateway": fmt.Sprintf("10.0.%d.1", i+1), "vlan": 1001 + i}}})
	}
	for i, c := range conns {
		if len(vpcs) == 0 {
			break
		}
		v := vpcs[i%len(vpcs)]
		add("VPCAttachment", fmt.Sprintf("%s--%s", v, servers[i]), map[string]any{"connection": c, "subnet": v + "/default"})
	}
	if len(vpcs) >= 2 {
		add("VPCPeering", vpcs[0]+"--"+vpcs[1], map[string]any{"permit": []any{map[string]any{vpcs[0]: map[string]any{}, vpcs[1]: map[string]any{}}}})
	}
	return out
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%02d", prefix, i+1)
	}
	return out
}

func ip(prefix string, host, bits int) string {
	return fmt.Sprintf("%s.%d/%d", prefix, host%256, bits)
}

func link(server, sw string) map[string]any {
	return map[string]any{"server": map[string]any{"port": server}, "switch": map[string]any{"port": sw}}
}
