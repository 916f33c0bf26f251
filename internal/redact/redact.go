// Package redact decides what may be shown of text that can carry
// secrets — URLs with credentials, tokens in error messages — in logs,
// health reports and the start-up configuration. It is the one place that
// does; nothing else hand-rolls it.
package redact

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

var (
	urlRE      = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s"'<>]+`)
	userinfoRE = regexp.MustCompile(`[^\s"'/@:]+:[^\s"'/@]+@`)
	bearerRE   = regexp.MustCompile(`(?i)\b(bearer|token)\s+[a-z0-9\-._~+/]{16,}=*`)
	netboxRE   = regexp.MustCompile(`\bnbt_[A-Za-z0-9]+\.[A-Za-z0-9_-]+`)
	secretRE   = regexp.MustCompile(`(?i)\b(token|password|passwd|secret|api[_-]?key)("?\s*[=:]\s*"?)[^\s"',;&}]+`)
)

// MaxText bounds a message Text keeps.
const MaxText = 300

// Text makes a message fit for logs and health reports: URLs lose their
// user, password, query and fragment, user:password@ and token-looking
// values are redacted, and it is cut to MaxText bytes.
func Text(msg string) string {
	msg = urlRE.ReplaceAllStringFunc(msg, URL)
	msg = userinfoRE.ReplaceAllString(msg, "[redacted]@")
	msg = bearerRE.ReplaceAllString(msg, "$1 [redacted]")
	msg = secretRE.ReplaceAllString(msg, "$1$2[redacted]")
	msg = netboxRE.ReplaceAllString(msg, "[redacted]")
	if len(msg) > MaxText {
		cut := MaxText
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

// URL drops a URL's user, password, query and fragment. Punctuation
// ending the match ("fetch https://host/r.git: EOF") is kept after it; a
// URL it cannot read keeps only its scheme.
func URL(s string) string {
	trimmed := strings.TrimRight(s, ".,:;!?)]}")
	tail := s[len(trimmed):]
	u, err := url.Parse(trimmed)
	if err != nil || u.Opaque != "" {
		i := strings.Index(s, "://")
		if i < 0 {
			return "[redacted]" + tail
		}
		return s[:i] + "://[redacted]" + tail
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String() + tail
}
