package breaker

import (
	"net"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
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

var (
	urlRE      = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s"'<>]+`)
	userinfoRE = regexp.MustCompile(`[^\s"'/@:]+:[^\s"'/@]+@`)
	bearerRE   = regexp.MustCompile(`(?i)\b(bearer|token)\s+[a-z0-9\-._~+/]{16,}=*`)
	netboxRE   = regexp.MustCompile(`\bnbt_[A-Za-z0-9]+\.[A-Za-z0-9_-]+`)
	secretRE   = regexp.MustCompile(`(?i)\b(token|password|passwd|secret|api[_-]?key)("?\s*[=:]\s*"?)[^\s"',;&}]+`)
)

// maxErrorLen bounds an error message kept for the health report.
const maxErrorLen = 300

// sanitize makes an error message fit for logs and the health report: URLs
// lose their user, password, query and fragment, user:password@ and
// token-looking values are redacted, and it is cut to maxErrorLen bytes.
func sanitize(msg string) string {
	msg = urlRE.ReplaceAllStringFunc(msg, redactURL)
	msg = userinfoRE.ReplaceAllString(msg, "[redacted]@")
	msg = bearerRE.ReplaceAllString(msg, "$1 [redacted]")
	msg = secretRE.ReplaceAllString(msg, "$1$2[redacted]")
	msg = netboxRE.ReplaceAllString(msg, "[redacted]")
	if len(msg) > maxErrorLen {
		cut := maxErrorLen
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

// redactURL drops a URL's user, password, query and fragment. Punctuation
// ending the match ("fetch https://host/r.git: EOF") is kept after it.
func redactURL(s string) string {
	trimmed := strings.TrimRight(s, ".,:;!?)]}")
	tail := s[len(trimmed):]
	u, err := url.Parse(trimmed)
	if err != nil || u.Opaque != "" {
		return s[:strings.Index(s, "://")] + "://[redacted]" + tail
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String() + tail
}
