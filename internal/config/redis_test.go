package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseRedisURL(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    RedisTarget
		wantErr string
	}{
		{in: "redis://:pw@127.0.0.1:6379/0", want: RedisTarget{Mode: RedisSingle}},
		{in: "unix:///run/redis.sock", want: RedisTarget{Mode: RedisSingle}},
		{in: "redis+sentinel://s1:26379,s2:26379,[::1]:26380/mymaster",
			want: RedisTarget{Mode: RedisSentinel, Addrs: []string{"s1:26379", "s2:26379", "[::1]:26380"}, MasterName: "mymaster"}},
		{in: "rediss+sentinel://app:p%40ss@s1:26379/primary-1/3",
			want: RedisTarget{Mode: RedisSentinel, Addrs: []string{"s1:26379"}, MasterName: "primary-1", DB: 3, Username: "app", Password: "p@ss", TLS: true}},
		{in: "redis+sentinel://:secret@s1:26379/m/", want: RedisTarget{Mode: RedisSentinel, Addrs: []string{"s1:26379"}, MasterName: "m", Password: "secret"}},
		{in: "redis+cluster://:pw@n1:6379,n2:6380", want: RedisTarget{Mode: RedisCluster, Addrs: []string{"n1:6379", "n2:6380"}, Password: "pw"}},
		{in: "redis+cluster://n1:6379/", wantErr: "nothing may follow"},
		{in: "redis+cluster://n1:6379/0", wantErr: "nothing may follow"},
		{in: "redis+sentinel://s1:26379", wantErr: "master-name"},
		{in: "redis+sentinel://s1:26379/m/x", wantErr: "database"},
		{in: "redis+sentinel://s1:26379/m/01", wantErr: "database"},
		{in: "redis+sentinel://s1/m", wantErr: "address 1"},
		{in: "redis+sentinel://s1:26379,/m", wantErr: "address 2"},
		{in: "redis+sentinel://s1:0/m", wantErr: "address 1"},
		{in: "redis+sentinel://s1:26379/m?x=1", wantErr: "no query"},
		{in: "redis+sentinel://:p%zz@s1:26379/m", wantErr: "percent-encoded"},
		{in: "http://x", wantErr: "not a redis://"},
		{in: "redis+foo://x:1", wantErr: "not a redis://"},
		{in: "", wantErr: "not a redis://"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRedisURL(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			tc.want.URL = Secret(tc.in)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestRedisVariables(t *testing.T) {
	c, err := LoadConfig(env(with(minimal(), "HNP_REDIS_URL", "redis+sentinel://:pw@127.0.0.1:26379/m",
		"HNP_REDIS_SENTINEL_PASSWORD", "sentinel-pw", "HNP_REDIS_WAIT_REPLICAS", "1", "HNP_REDIS_WAIT_TIMEOUT", "50ms")))
	require.NoError(t, err)
	require.Equal(t, RedisSentinel, c.Redis.Mode)
	require.Equal(t, "sentinel-pw", c.RedisSentinelPassword.Reveal())
	require.Equal(t, 1, c.Queue.WaitReplicas)
	require.Equal(t, int64(50), c.Queue.WaitTimeout.Milliseconds())

	_, err = LoadConfig(env(with(minimal(), "HNP_REDIS_SENTINEL_PASSWORD", "sentinel-pw")))
	require.ErrorContains(t, err, "names no Sentinel")

	// A bad URL's error shows neither the URL nor its password.
	_, err = LoadConfig(env(with(minimal(), "HNP_REDIS_URL", "redis+sentinel://:hunter2-pw@s1/m")))
	require.ErrorContains(t, err, "address 1")
	require.NotContains(t, err.Error(), "hunter2")
}

// FuzzParseRedisURL: the parser never panics, never shows the password in
// an error, and what it accepts is well-formed.
func FuzzParseRedisURL(f *testing.F) {
	for _, s := range []string{"redis://:pw@h:1/0", "redis+sentinel://u:pw@a:1,b:2/m/1", "rediss+cluster://:pw@a:1,[::1]:2",
		"redis+sentinel://:p%41w@a:1/m", "redis+cluster://a:1/", "unix:///s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseRedisURL(s)
		if err != nil {
			if _, ui, ok := strings.Cut(s, "://"); ok {
				if ui, _, ok = strings.Cut(ui, "@"); ok {
					_, pw, _ := strings.Cut(ui, ":")
					// A password long and odd enough not to be part of the message.
					if len(pw) >= 6 && !strings.Contains(errRedisURL.Error()+" address host:port master-name", pw) {
						require.NotContains(t, err.Error(), pw)
					}
				}
			}
			return
		}
		require.Equal(t, s, got.URL.Reveal())
		switch got.Mode {
		case RedisSingle:
			require.Empty(t, got.Addrs)
		case RedisSentinel, RedisCluster:
			require.NotEmpty(t, got.Addrs)
			require.LessOrEqual(t, len(got.Addrs), maxRedisAddrs)
			for _, a := range got.Addrs {
				require.NotContains(t, a, "@")
				require.NotContains(t, a, "/")
			}
			require.Equal(t, got.Mode == RedisSentinel, got.MasterName != "")
		default:
			t.Fatalf("mode %q", got.Mode)
		}
	})
}
