package gitaccess

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Remote is a Git remote's address in one canonical form: lowercase
// scheme and host, no default port, no user information, query or
// fragment, and a clean path ("." and ".." segments, empty segments and
// encoded slashes are refused, not resolved).
type Remote struct {
	Scheme string // https, http or ssh
	Host   string // lowercase host name, or [IPv6]
	Port   string // "" for the scheme's default port
	Path   string // decoded, from "/"; "" only in an allow-list prefix
	// User is an SSH user name from the URL (never a password); the
	// canonical form leaves it out, the transport URL keeps it.
	User string
	scp  bool // written scp-like (user@host:path): a path relative to the login
}

// String is the canonical URL: what is matched, and what breakers and
// clones are keyed by.
func (r Remote) String() string {
	return r.Scheme + "://" + r.hostPort() + (&url.URL{Path: r.Path}).EscapedPath()
}

// Transport is the URL handed to Git: the canonical URL, with the SSH user
// and an scp-like address kept as written.
func (r Remote) Transport() string {
	user := ""
	if r.User != "" {
		user = r.User + "@"
	}
	if r.scp {
		return user + r.Host + ":" + strings.TrimPrefix(r.Path, "/")
	}
	if r.Scheme == "ssh" && user != "" {
		return "ssh://" + url.User(r.User).String() + "@" + r.hostPort() + (&url.URL{Path: r.Path}).EscapedPath()
	}
	return r.String()
}

// HostPort is host:port with the scheme's default port filled in.
func (r Remote) HostPort() string {
	return net.JoinHostPort(strings.Trim(r.Host, "[]"), r.port())
}

func (r Remote) hostPort() string {
	if r.Port == "" {
		return r.Host
	}
	return r.Host + ":" + r.Port
}

func (r Remote) port() string {
	if r.Port != "" {
		return r.Port
	}
	return defaultPort[r.Scheme]
}

var defaultPort = map[string]string{"https": "443", "http": "80", "ssh": "22"}

// parse reads a Git URL (scheme://..., or scp-like [user@]host:path) into
// its canonical form. prefix allows an empty path (an allow-list entry).
// It reads only the text: nothing is opened or dialled.
func parse(raw string, prefix bool) (Remote, error) {
	if raw == "" {
		return Remote{}, fmt.Errorf("empty URL")
	}
	for _, c := range raw {
		if c <= ' ' || c == 0x7f || c == '\\' {
			return Remote{}, fmt.Errorf("URL contains a space, a control character or a backslash")
		}
	}
	if scheme, _, ok := strings.Cut(raw, "://"); ok && !strings.ContainsAny(scheme, "/@:") {
		return parseURL(raw, prefix)
	}
	return parseSCP(raw, prefix)
}

func parseURL(raw string, prefix bool) (Remote, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Remote{}, fmt.Errorf("not a URL")
	}
	r := Remote{Scheme: strings.ToLower(u.Scheme)}
	if _, ok := defaultPort[r.Scheme]; !ok {
		if r.Scheme == "file" {
			return Remote{}, fmt.Errorf("local repositories (file://) are never allowed")
		}
		return Remote{}, fmt.Errorf("scheme %q is not allowed (only https and ssh; http when allowed)", u.Scheme)
	}
	if u.Opaque != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#") {
		return Remote{}, fmt.Errorf("a Git URL has no query or fragment")
	}
	if u.User != nil && r.Scheme == "ssh" {
		r.User = u.User.Username()
	}
	if r.Host, r.Port, err = hostPort(u.Host, r.Scheme); err != nil {
		return Remote{}, err
	}
	if r.Path, err = cleanPath(u.Path, u.EscapedPath(), prefix); err != nil {
		return Remote{}, err
	}
	return r, nil
}

// parseSCP reads [user@]host:path, as Git does: a colon before any slash.
// Anything else without a scheme is a local path.
func parseSCP(raw string, prefix bool) (Remote, error) {
	colon, slash := strings.Index(raw, ":"), strings.Index(raw, "/")
	if colon <= 0 || (slash >= 0 && slash < colon) {
		return Remote{}, fmt.Errorf("local paths are never allowed; use an https:// or ssh:// URL")
	}
	r := Remote{Scheme: "ssh", scp: true}
	host, p := raw[:colon], raw[colon+1:]
	if i := strings.LastIndex(host, "@"); i >= 0 {
		r.User, host = host[:i], host[i+1:]
		if r.User == "" || strings.ContainsAny(r.User, "@:/[]") {
			return Remote{}, fmt.Errorf("bad user in scp-like address")
		}
	}
	if strings.ContainsAny(host, "[]") {
		return Remote{}, fmt.Errorf("write an IPv6 remote as ssh://[address]/path")
	}
	// go-git takes the user as everything before the first '@': with an
	// '@' after the colon, "a:x@b:p" would reach host b as user "a:x".
	if strings.Contains(p, "@") {
		return Remote{}, fmt.Errorf("scp-like path contains @: write ssh://[user@]host/path")
	}
	// go-git reads host:123/path as a port: refuse what Git and go-git
	// would read differently.
	if d := strings.IndexAny(p, "/:"); d > 0 && strings.Trim(p[:d], "0123456789") == "" {
		return Remote{}, fmt.Errorf("scp-like path starts with a number: write ssh://host:port/path")
	}
	if strings.Contains(p, "%") {
		return Remote{}, fmt.Errorf("scp-like path contains %%")
	}
	var err error
	if r.Host, _, err = hostPort(host, "ssh"); err != nil {
		return Remote{}, err
	}
	if r.Path, err = cleanPath("/"+p, "/"+p, prefix); err != nil {
		return Remote{}, err
	}
	return r, nil
}

func hostPort(hp, scheme string) (host, port string, err error) {
	host, port = hp, ""
	if h, p, serr := net.SplitHostPort(hp); serr == nil {
		host, port = h, p
	} else if strings.HasSuffix(hp, ":") {
		host = strings.TrimSuffix(hp, ":")
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	switch ip := net.ParseIP(host); {
	case host == "":
		return "", "", fmt.Errorf("URL has no host")
	case ip != nil && strings.Contains(host, ":"):
		host = "[" + ip.String() + "]"
	case ip != nil:
		host = ip.String()
	default:
		if len(host) > 253 || !validHostName(host) {
			return "", "", fmt.Errorf("host %q is not a host name", host)
		}
	}
	if port != "" {
		n, perr := strconv.Atoi(port)
		if perr != nil || n < 1 || n > 65535 || strings.Trim(port, "0123456789") != "" {
			return "", "", fmt.Errorf("port %q is not a port", port)
		}
		port = strconv.Itoa(n)
		if port == defaultPort[scheme] {
			port = ""
		}
	}
	return host, port, nil
}

func validHostName(h string) bool {
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		if strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return false
		}
	}
	return true
}

// cleanPath checks a decoded path: no encoded slash, backslash or control
// character, no "." or ".." or empty segment. A trailing slash goes.
func cleanPath(decoded, escaped string, prefix bool) (string, error) {
	low := strings.ToLower(escaped)
	for _, bad := range []string{"%2f", "%5c", "%00"} {
		if strings.Contains(low, bad) {
			return "", fmt.Errorf("path contains an encoded slash, backslash or NUL")
		}
	}
	for _, c := range decoded {
		if c < ' ' || c == 0x7f || c == '\\' {
			return "", fmt.Errorf("path contains a control character or a backslash")
		}
	}
	p := strings.TrimSuffix(decoded, "/")
	if p == "" {
		if prefix {
			return "", nil
		}
		return "", fmt.Errorf("URL names no repository")
	}
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("path is not absolute")
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("path has an empty, \".\" or \"..\" segment")
		}
	}
	return p, nil
}
