package render

import (
	"fmt"
	"slices"
	"strings"
)

// Limits of VPCPeering.permit (CRD minItems/maxItems).
const (
	maxPermits      = 10
	maxPermitSubnet = 10
)

// connectionTypes are the Connection spec fields of which exactly one is
// set: DESIGN.md §6's ten, plus mclagDomain, which the Connection CRD has
// too (the MCLAG peer and session links between a switch pair).
func connectionTypes() []string {
	return []string{"unbundled", "bundled", "mclag", "eslag", "mclagDomain", "fabric",
		"mesh", "gateway", "vpcLoopback", "external", "staticExternal"}
}

// switchRoles are the values of the Switch CRD's role enum (required).
func switchRoles() []string {
	return []string{"spine", "server-leaf", "border-leaf", "mixed-leaf", "virtual-edge"}
}

// connection checks that exactly one connection type is set, as an object,
// and that every port is "<device>/<port>".
func (c *checker) connection(spec map[string]any) {
	var set []string
	for _, t := range connectionTypes() {
		if _, ok := spec[t]; ok {
			set = append(set, t)
		}
	}
	switch len(set) {
	case 0:
		c.add("spec", "sets no connection type; exactly one of %s is required", strings.Join(connectionTypes(), ", "))
	case 1:
		c.object(set[0], spec[set[0]], true)
	default:
		c.add("spec", "sets %d connection types (%s); exactly one is allowed", len(set), strings.Join(set, ", "))
	}
	for _, p := range ports(spec) {
		if p.device == "" {
			c.add(p.field, "%s must be a string \"<device>/<port>\"", describe(p.value))
		}
	}
}

// attachment checks a VPCAttachment: subnet is "<vpc>/<subnet>" once
// normalised, connection names a Connection, nativeVLAN is a boolean.
func (c *checker) attachment(spec map[string]any) {
	if s, ok := c.str("subnet", spec["subnet"], true); ok {
		vpc, sub, _ := strings.Cut(s, "/")
		if vpc == "" || sub == "" || strings.Contains(sub, "/") {
			c.add("subnet", "%q must be \"<vpc>/<subnet>\" (or a bare VPC name for its default subnet)", s)
		}
	}
	c.str("connection", spec["connection"], true)
	if v, set := spec["nativeVLAN"]; set {
		if _, ok := v.(bool); !ok {
			c.add("nativeVLAN", "must be a boolean, got %s", typeName(v))
		}
	}
}

// peering checks a VPCPeering: permit has 1–10 entries that together name
// exactly two VPCs, each entry names both, each VPC's value is an object
// whose optional subnets lists 1–10 subnet names. remote is deprecated and
// no longer supported (CRD), so a non-empty one is refused.
func (c *checker) peering(spec map[string]any) {
	if r, ok := spec["remote"].(string); ok && r != "" {
		c.add("remote", "is deprecated and no longer supported by the fabric")
	}
	list, ok := c.list("permit", spec["permit"], true)
	if !ok {
		return
	}
	if len(list) > maxPermits {
		c.add("permit", "has %d entries, at most %d are allowed", len(list), maxPermits)
	}
	var vpcs []string
	var short []string // entries that name other than two VPCs
	for i, e := range list {
		f := fmt.Sprintf("permit[%d]", i)
		m, ok := c.object(f, e, true)
		if !ok {
			continue
		}
		if len(m) != 2 {
			short = append(short, f)
		}
		for _, vpc := range sortedKeys(m) {
			if !slices.Contains(vpcs, vpc) {
				vpcs = append(vpcs, vpc)
			}
			c.peer(f+"."+vpc, m[vpc])
		}
	}
	slices.Sort(vpcs)
	if len(vpcs) != 2 {
		c.add("permit", "names %d VPCs (%s); a peering names exactly two", len(vpcs), strings.Join(vpcs, ", "))
		return
	}
	for _, f := range short {
		c.add(f, "must name both VPCs %s and %s", vpcs[0], vpcs[1])
	}
}

// peer checks one VPC's side of a permit entry.
func (c *checker) peer(field string, v any) {
	m, ok := c.object(field, v, true)
	if !ok {
		return
	}
	sn, set := m["subnets"]
	if !set {
		return
	}
	l, ok := c.list(field+".subnets", sn, false)
	if !ok {
		return
	}
	if len(l) == 0 || len(l) > maxPermitSubnet {
		c.add(field+".subnets", "has %d subnets, 1–%d are allowed (leave it out for all subnets)", len(l), maxPermitSubnet)
	}
	for i, s := range l {
		c.str(fmt.Sprintf("%s.subnets[%d]", field, i), s, true)
	}
}

// switchSpec checks the Switch's role, required by the CRD.
func (c *checker) switchSpec(spec map[string]any) {
	if r, ok := c.str("role", spec["role"], true); ok && !slices.Contains(switchRoles(), r) {
		c.add("role", "%q is not one of %s", r, strings.Join(switchRoles(), ", "))
	}
}

// describe quotes a string value and names the type of any other.
func describe(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return typeName(v)
}
