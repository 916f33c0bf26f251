package render

import (
	"fmt"
	"net/netip"
	"strings"
)

// Limits of the fabric's admission (DESIGN.md §6) and the CRDs.
const (
	maxVPCSubnets   = 20   // VPC subnets
	maxSubnetBits   = 30   // a VPC subnet is /30 or larger
	maxIPv4NSSubnet = 10   // IPv4Namespace subnets (DESIGN.md §6)
	maxVLANRanges   = 20   // VLANNamespace ranges (CRD maxItems)
	minVLAN         = 1    // VLAN ids the fabric accepts
	maxVLAN         = 4094 //
)

// vpc checks a VPC's subnets: 1–20 of them, each a valid IPv4 CIDR of /30
// or larger, with its gateway (when set) inside it and a VLAN 1–4094 not
// used by another subnet of the VPC; subnets do not overlap each other.
// Subnet names must be usable in a VPCAttachment's "<vpc>/<subnet>".
func (c *checker) vpc(spec map[string]any) {
	subnets, ok := c.object("subnets", spec["subnets"], true)
	if !ok {
		return
	}
	switch n := len(subnets); {
	case n == 0:
		c.add("subnets", "is empty, a VPC needs at least one subnet")
		return
	case n > maxVPCSubnets:
		c.add("subnets", "has %d subnets, at most %d are allowed", n, maxVPCSubnets)
	}
	var names []string
	var prefixes []netip.Prefix
	vlans := map[int64]string{}
	for _, name := range sortedKeys(subnets) {
		f := "subnets." + name
		if name == "" || strings.Contains(name, "/") {
			c.add("subnets", "has a subnet named %q; a subnet name must be non-empty and without '/'", name)
		}
		sub, ok := c.object(f, subnets[name], true)
		if !ok {
			continue
		}
		p, pok := c.prefix(f+".subnet", sub["subnet"], maxSubnetBits)
		if pok {
			if i := overlapping(p, prefixes); i >= 0 {
				c.add(f+".subnet", "%s overlaps subnet %s (%s)", p, names[i], prefixes[i])
			}
			names, prefixes = append(names, name), append(prefixes, p)
		}
		if g, set := sub["gateway"]; set {
			c.gateway(f+".gateway", g, p, pok)
		}
		if v, ok := c.integer(f+".vlan", sub["vlan"], minVLAN, maxVLAN, "a VLAN"); ok {
			if other, dup := vlans[v]; dup {
				c.add(f+".vlan", "%d is also used by subnet %s", v, other)
			} else {
				vlans[v] = name
			}
		}
	}
}

// gateway checks a subnet's gateway: an IPv4 address inside the subnet
// (checked only when the subnet itself is valid).
func (c *checker) gateway(field string, v any, subnet netip.Prefix, subnetOK bool) {
	s, ok := v.(string)
	if !ok {
		c.add(field, "must be an IPv4 address string, got %s", typeName(v))
		return
	}
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil || !a.Is4():
		c.add(field, "%q is not a valid IPv4 address", s)
	case subnetOK && !subnet.Masked().Contains(a):
		c.add(field, "%s is outside subnet %s", s, subnet)
	}
}

// ipv4Namespace checks 1–10 subnets, each a valid IPv4 CIDR, not
// overlapping each other (the CRD: they "couldn't overlap").
func (c *checker) ipv4Namespace(spec map[string]any) {
	list, ok := c.list("subnets", spec["subnets"], true)
	if !ok {
		return
	}
	switch n := len(list); {
	case n == 0:
		c.add("subnets", "is empty, at least one subnet is required")
	case n > maxIPv4NSSubnet:
		c.add("subnets", "has %d subnets, at most %d are allowed", n, maxIPv4NSSubnet)
	}
	var prefixes []netip.Prefix
	for i, v := range list {
		f := fmt.Sprintf("subnets[%d]", i)
		p, ok := c.prefix(f, v, 32)
		if !ok {
			continue
		}
		if j := overlapping(p, prefixes); j >= 0 {
			c.add(f, "%s overlaps %s", p, prefixes[j])
		}
		prefixes = append(prefixes, p)
	}
}

// vlanNamespace checks 1–20 ranges, each with 1 <= from <= to <= 4094,
// not overlapping each other (the CRD: they "couldn't overlap").
func (c *checker) vlanNamespace(spec map[string]any) {
	list, ok := c.list("ranges", spec["ranges"], true)
	if !ok {
		return
	}
	switch n := len(list); {
	case n == 0:
		c.add("ranges", "is empty, at least one VLAN range is required")
	case n > maxVLANRanges:
		c.add("ranges", "has %d ranges, at most %d are allowed", n, maxVLANRanges)
	}
	var seen [][2]int64
	for i, v := range list {
		f := fmt.Sprintf("ranges[%d]", i)
		r, ok := c.object(f, v, true)
		if !ok {
			continue
		}
		from, fok := c.integer(f+".from", r["from"], minVLAN, maxVLAN, "a VLAN")
		to, tok := c.integer(f+".to", r["to"], minVLAN, maxVLAN, "a VLAN")
		if !fok || !tok {
			continue
		}
		if from > to {
			c.add(f, "from %d is greater than to %d", from, to)
			continue
		}
		for _, s := range seen {
			if from <= s[1] && s[0] <= to {
				c.add(f, "%d–%d overlaps range %d–%d", from, to, s[0], s[1])
				break
			}
		}
		seen = append(seen, [2]int64{from, to})
	}
}
