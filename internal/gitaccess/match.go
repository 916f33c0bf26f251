package gitaccess

import (
	"fmt"
	"strings"
)

// entry is one allow-list (or credentials) match: a host, any scheme on
// its default port or on the port named; or a URL prefix.
type entry struct {
	raw    string
	host   bool // a host entry (no scheme, no path)
	remote Remote
}

func parseEntry(raw string) (entry, error) {
	if !strings.Contains(raw, "://") && !strings.Contains(raw, "/") && !strings.Contains(raw, "@") {
		// host or host:port
		if strings.Count(raw, ":") > 1 && !strings.HasPrefix(raw, "[") {
			return entry{}, fmt.Errorf("write an IPv6 host as [address]")
		}
		host, port, err := hostPort(raw, "")
		if err != nil {
			return entry{}, err
		}
		return entry{raw: raw, host: true, remote: Remote{Host: host, Port: port}}, nil
	}
	r, err := parse(raw, true)
	if err != nil {
		return entry{}, err
	}
	r.User = ""
	return entry{raw: r.String(), remote: r}, nil
}

// matches: a host entry matches the host on the port it names, or on the
// scheme's default port; a prefix matches scheme, host, port and whole
// leading path segments (a last segment "x" also matches "x.git").
func (e entry) matches(r Remote) bool {
	if e.host {
		return e.remote.Host == r.Host && cmpOr(e.remote.Port, defaultPort[r.Scheme]) == r.port()
	}
	if e.remote.Scheme != r.Scheme || e.remote.Host != r.Host || e.remote.Port != r.Port {
		return false
	}
	return segmentPrefix(e.remote.Path, r.Path)
}

func segmentPrefix(prefix, p string) bool {
	if prefix == "" {
		return true
	}
	if p == prefix || p == prefix+".git" || (strings.HasSuffix(prefix, ".git") && p == strings.TrimSuffix(prefix, ".git")) {
		return true
	}
	return strings.HasPrefix(p, prefix+"/")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
