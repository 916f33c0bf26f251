package breaker

import (
	"net"
	"net/url"
	"strings"
)

// Remote reduces a remote's address — a URL, an scp-like Git address
// ("git@host:org/repo.git"), host:port or host — to a lowercase host:port
// (the scheme's default port when the URL names none; 22 for scp-like),
// without user, password, path or query. It is what breakers are keyed and
// labelled by. "" stays ""; an address it cannot read is "invalid".
func Remote(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	var host, port string
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return "invalid"
		}
		host, port = u.Hostname(), u.Port()
		if port == "" {
			port = defaultPort(strings.ToLower(u.Scheme))
		}
	} else {
		s := raw
		if i := strings.LastIndex(s, "@"); i >= 0 { // user[:password]@
			s = s[i+1:]
		}
		if i := strings.Index(s, "/"); i >= 0 {
			s = s[:i]
		}
		var err error
		if host, port, err = net.SplitHostPort(s); err != nil {
			host, port = s, ""
		} else if strings.Trim(port, "0123456789") != "" { // host:path
			port = "22"
		}
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "" || len(host) > 253 || strings.Trim(host, "abcdefghijklmnopqrstuvwxyz0123456789.-_:") != "" {
		return "invalid"
	}
	if port == "" {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, port)
}

func defaultPort(scheme string) string {
	switch scheme {
	case "https":
		return "443"
	case "http":
		return "80"
	case "ssh", "git+ssh", "ssh+git":
		return "22"
	case "git":
		return "9418"
	}
	return ""
}
