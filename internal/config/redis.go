package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// RedisMode is how HNP_REDIS_URL reaches Redis.
type RedisMode string

// The modes of HNP_REDIS_URL.
const (
	RedisSingle   RedisMode = "single"   // redis://, rediss://, unix://: one server
	RedisSentinel RedisMode = "sentinel" // redis+sentinel://: the primary Sentinel names
	RedisCluster  RedisMode = "cluster"  // redis+cluster://: a Redis Cluster
)

// RedisTarget is HNP_REDIS_URL taken apart. For RedisSingle only URL is
// set (go-redis parses it); for Sentinel and Cluster the fields are.
type RedisTarget struct {
	Mode RedisMode
	// URL is the whole HNP_REDIS_URL.
	URL Secret
	// Addrs are the sentinels' (Sentinel) or the seed nodes' (Cluster)
	// host:port, in the order given.
	Addrs []string
	// MasterName is the name the sentinels monitor (Sentinel only).
	MasterName string
	// DB is the database number (Sentinel only; a Cluster has only 0).
	DB       int
	Username string
	// Password authenticates to the data nodes (primary, replicas, cluster
	// nodes), not to the sentinels: HNP_REDIS_SENTINEL_PASSWORD does that.
	Password Secret
	TLS      bool
}

// errRedisURL is the one message of a URL that does not parse: the parts
// of a bad URL are never echoed, since the URL may carry a password.
var errRedisURL = errors.New("not a redis://, rediss://, unix://, redis+sentinel:// or redis+cluster:// URL")

// maxRedisAddrs bounds the comma-separated addresses of one URL.
const maxRedisAddrs = 32

// ParseRedisURL reads HNP_REDIS_URL. Besides go-redis's redis://,
// rediss:// and unix:// it accepts
//
//	redis+sentinel://[[user]:password@]host:port[,host:port…]/<master-name>[/<db>]
//	redis+cluster://[[user]:password@]host:port[,host:port…]
//
// (rediss+sentinel:// and rediss+cluster:// for TLS). The addresses are
// the sentinels', or seed nodes of the cluster; user and password are the
// data nodes'. No query parameters, no other path. Errors never contain
// the URL's parts.
func ParseRedisURL(s string) (RedisTarget, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return RedisTarget{}, errRedisURL
	}
	t := RedisTarget{URL: Secret(s)}
	switch scheme {
	case "redis", "rediss", "unix":
		u, err := url.Parse(s)
		if err != nil || u.Scheme != scheme {
			return RedisTarget{}, errRedisURL
		}
		t.Mode = RedisSingle
		return t, nil
	case "redis+sentinel", "rediss+sentinel":
		t.Mode = RedisSentinel
	case "redis+cluster", "rediss+cluster":
		t.Mode = RedisCluster
	default:
		return RedisTarget{}, errRedisURL
	}
	t.TLS = strings.HasPrefix(scheme, "rediss")
	if strings.ContainsAny(rest, "?#") {
		return RedisTarget{}, fmt.Errorf("%s://: no query or fragment allowed", scheme)
	}
	hosts, path, hasPath := strings.Cut(rest, "/")
	if at := strings.LastIndex(hosts, "@"); at >= 0 {
		var err error
		if t.Username, t.Password, err = redisUserinfo(hosts[:at]); err != nil {
			return RedisTarget{}, fmt.Errorf("%s://: %w", scheme, err)
		}
		hosts = hosts[at+1:]
	}
	var err error
	if t.Addrs, err = redisAddrs(hosts); err != nil {
		return RedisTarget{}, fmt.Errorf("%s://: %w", scheme, err)
	}
	if t.Mode == RedisCluster {
		if hasPath {
			return RedisTarget{}, fmt.Errorf("%s://: a cluster has no database or master name: nothing may follow the addresses", scheme)
		}
		return t, nil
	}
	if t.MasterName, t.DB, err = sentinelPath(path); err != nil {
		return RedisTarget{}, fmt.Errorf("%s://: %w", scheme, err)
	}
	return t, nil
}

// redisUserinfo splits "[user]:password" (percent-encoded) or "password".
func redisUserinfo(ui string) (string, Secret, error) {
	user, pass, hasColon := strings.Cut(ui, ":")
	if !hasColon {
		user, pass = "", ui // redis://password@host, as go-redis reads it
	}
	u, err1 := url.PathUnescape(user)
	p, err2 := url.PathUnescape(pass)
	if err1 != nil || err2 != nil {
		return "", "", errors.New("the user or password is not percent-encoded correctly")
	}
	if strings.ContainsAny(u, ":@/ ") {
		return "", "", errors.New("the user name has a character it may not")
	}
	return u, Secret(p), nil
}

// redisAddrs checks a comma-separated list of host:port.
func redisAddrs(s string) ([]string, error) {
	parts := strings.Split(s, ",")
	if s == "" || len(parts) > maxRedisAddrs {
		return nil, fmt.Errorf("give 1 to %d comma-separated host:port addresses", maxRedisAddrs)
	}
	out := make([]string, 0, len(parts))
	for i, p := range parts {
		host, port, err := net.SplitHostPort(p)
		n, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 || strings.ContainsAny(host, "@/ %") {
			return nil, fmt.Errorf("address %d is not host:port", i+1)
		}
		out = append(out, net.JoinHostPort(host, strconv.Itoa(n)))
	}
	return out, nil
}

// sentinelPath reads "<master-name>[/<db>]".
func sentinelPath(path string) (string, int, error) {
	name, dbs, hasDB := strings.Cut(path, "/")
	if name == "" || len(name) > 128 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
		return "", 0, errors.New("name the primary after the addresses: /<master-name>[/<db>] (letters, digits, . _ -)")
	}
	if !hasDB || dbs == "" {
		return name, 0, nil
	}
	db, err := strconv.Atoi(dbs)
	if err != nil || db < 0 || db > 9999 || strconv.Itoa(db) != dbs {
		return "", 0, errors.New("the database after the master name must be a number 0..9999")
	}
	return name, db, nil
}
