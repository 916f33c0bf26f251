package gitops

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxIdentity caps an author's name and e-mail, in bytes.
const maxIdentity = 128

// sanitize makes an author safe for a commit header: NetBox user names
// are free text, and a newline or '<' '>' would forge or break the
// header. Control characters and '<' '>' go, spaces are collapsed, and
// each part is cut to maxIdentity bytes on a rune boundary.
func sanitize(s Signature) Signature {
	return Signature{Name: clean(s.Name), Email: clean(s.Email)}
}

func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '<' || r == '>' || r == utf8.RuneError:
			return -1
		case unicode.IsControl(r) || unicode.IsSpace(r):
			return ' '
		case unicode.Is(unicode.Cf, r): // invisible format characters
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxIdentity {
		cut := maxIdentity
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimSpace(s[:cut])
	}
	return s
}
