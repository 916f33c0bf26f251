package render

import (
	"fmt"
	"strings"
)

// reference is one object a spec names.
type reference struct {
	field  string
	to     ObjectRef // Kind and Name
	subnet string    // when set, to is a VPC that must have this subnet
}

// references lists what a normalised object refers to, in a stable order:
//   - VPCAttachment: the VPC and subnet of subnet, the Connection.
//   - VPCPeering: both VPCs of permit, and the subnets listed for them.
//   - Connection: the device of every port: a Server for server.port, a
//     Switch for every other link end (switch, switch1, switch2, spine,
//     leaf, leaf1, leaf2, ...) except gateway.port, whose Gateway object
//     the plugin does not manage; and staticExternal.withinVPC's VPC.
//   - ExternalAttachment: the External and the Connection.
//   - ExternalPeering: permit.vpc's VPC and subnets, permit.external's
//     External.
func references(o Object) []reference {
	var out []reference
	add := func(field, kindName, name, subnet string) {
		if name != "" && kindName != "" {
			out = append(out, reference{field: field, to: ObjectRef{Kind: kindNamed(kindName), Name: name}, subnet: subnet})
		}
	}
	s := o.Spec
	switch o.Kind.Name {
	case "VPCAttachment":
		vpc, sub, _ := strings.Cut(str(s["subnet"]), "/")
		add("subnet", "VPC", vpc, sub)
		add("connection", "Connection", str(s["connection"]), "")
	case "VPCPeering":
		permit, _ := s["permit"].([]any)
		for i, e := range permit {
			m, _ := e.(map[string]any)
			for _, vpc := range sortedKeys(m) {
				f := fmt.Sprintf("permit[%d].%s", i, vpc)
				add(f, "VPC", vpc, "")
				peer, _ := m[vpc].(map[string]any)
				for _, sub := range strs(peer["subnets"]) {
					add(f+".subnets", "VPC", vpc, sub)
				}
			}
		}
	case "Connection":
		for _, p := range ports(s) {
			add(p.field, p.kind, p.device, "")
		}
		static, _ := s["staticExternal"].(map[string]any)
		add("staticExternal.withinVPC", "VPC", str(static["withinVPC"]), "")
	case "ExternalAttachment":
		add("external", "External", str(s["external"]), "")
		add("connection", "Connection", str(s["connection"]), "")
	case "ExternalPeering":
		permit, _ := s["permit"].(map[string]any)
		vpc, _ := permit["vpc"].(map[string]any)
		add("permit.vpc.name", "VPC", str(vpc["name"]), "")
		for _, sub := range strs(vpc["subnets"]) {
			add("permit.vpc.subnets", "VPC", str(vpc["name"]), sub)
		}
		ext, _ := permit["external"].(map[string]any)
		add("permit.external.name", "External", str(ext["name"]), "")
	}
	return out
}

// references reports every reference of o that desired cannot satisfy,
// once per missing object or subnet.
func (c *checker) references(o Object, desired *Set) {
	seen := map[string]bool{}
	for _, r := range references(o) {
		t, ok := desired.Get(r.to.Kind, r.to.Name)
		if !ok {
			if !seen[r.to.String()] {
				seen[r.to.String()] = true
				c.missing(r, "refers to %s, which is not in the fabric", r.to)
			}
			continue
		}
		if r.subnet == "" {
			continue
		}
		subnets, _ := t.Spec["subnets"].(map[string]any)
		if _, ok := subnets[r.subnet]; !ok && !seen[r.to.String()+"/"+r.subnet] {
			seen[r.to.String()+"/"+r.subnet] = true
			c.missing(r, "refers to subnet %s of VPC %s, which has no such subnet", r.subnet, r.to.Name)
		}
	}
}

func (c *checker) missing(r reference, format string, args ...any) {
	to := r.to
	c.probs = append(c.probs, &Problem{Object: c.obj, Field: r.field, Reason: fmt.Sprintf(format, args...), Missing: &to})
}

// port is one "port" field of a Connection's links.
type port struct {
	field  string // "eslag.links[0].server.port"
	value  any
	device string // the part before the first '/'; "" unless "<device>/<port>"
	kind   string // "Server", "Switch", or "" for a gateway's port
}

// ports finds every link end ({"port": ...} under any key) in a
// Connection spec, in a stable order.
func ports(spec map[string]any) []port {
	var out []port
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(t) {
				f := field(prefix, k)
				if end, ok := t[k].(map[string]any); ok {
					if pv, ok := end["port"]; ok {
						out = append(out, newPort(f+".port", k, pv))
					}
				}
				walk(f, t[k])
			}
		case []any:
			for i, e := range t {
				walk(fmt.Sprintf("%s[%d]", prefix, i), e)
			}
		}
	}
	walk("", spec)
	return out
}

func newPort(f, end string, v any) port {
	p := port{field: f, value: v, kind: "Switch"}
	switch end {
	case "server":
		p.kind = "Server"
	case "gateway":
		p.kind = ""
	}
	if dev, rest, ok := strings.Cut(str(v), "/"); ok && dev != "" && rest != "" {
		p.device = dev
	}
	return p
}

// str is v when it is a string, else "".
func str(v any) string {
	s, _ := v.(string)
	return s
}

// strs is the strings of a list, skipping other values.
func strs(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, e := range l {
		if s := str(e); s != "" {
			out = append(out, s)
		}
	}
	return out
}
