package keyspace

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKey(t *testing.T) {
	require.Equal(t, "{hnp}:", Key("hnp"))
	require.Equal(t, "{hnp}:q:", Key("hnp", "q", ""))
	require.Equal(t, "{t}:problems:fabrics", Key("t", "problems", "fabrics"))
}
