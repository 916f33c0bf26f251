package keyspace

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKey(t *testing.T) {
	require.Equal(t, "{hnp}:", Key("hnp"))
	require.Equal(t, "{hnp}:q:", Key("hnp", "q", ""))
	require.Equal(t, "{t}:problems:fabrics", Key("t", "problems", "fabrics"))
}

// slot is Redis Cluster's hash slot of key: CRC16 (XMODEM) of its hash tag
// (the text between the first "{" and the next "}", when not empty) or of
// the whole key, mod 16384.
func slot(key string) uint16 {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for k := 0; k < len(key); k++ {
		crc ^= uint16(key[k]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc % 16384
}

func TestSlot(t *testing.T) {
	// Values from the Redis Cluster specification and redis-cli CLUSTER KEYSLOT.
	require.Equal(t, uint16(12739), slot("123456789")) // CRC16 0x31C3
	require.Equal(t, slot("user1000"), slot("{user1000}.following"))
	require.Equal(t, slot("foo{}{bar}"), slot("foo{}{bar}"))
}

// FuzzKeySlot: whatever the parts (object keys, names from NetBox), a key
// is in its prefix's slot, so every multi-key script of a store is in one.
func FuzzKeySlot(f *testing.F) {
	f.Add("hnp", "q", "hints:netbox_hedgehog.vpc:1")
	f.Add("hnp", "st", "{x}:y")
	f.Add("t", "}", "{")
	f.Fuzz(func(t *testing.T, prefix, a, b string) {
		if prefix == "" || strings.ContainsAny(prefix, "{}") { // the configuration refuses these
			return
		}
		require.Equal(t, slot(prefix), slot(Key(prefix, a, b)))
		require.Equal(t, slot(Key(prefix)), slot(Key(prefix, a)))
	})
}
