package client

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/jobs"
)

func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		j    jobs.Job
		want string
	}{
		{jobs.Job{ID: "a1", Fabric: 3, State: jobs.Queued}, "job a1: fabric 3 queued"},
		{jobs.Job{ID: "a1", Fabric: 3, State: jobs.Running, Phase: "reading NetBox", Done: 7, Total: 14, Objects: 412},
			"job a1: fabric 3 running [##########----------] 7/14 reading NetBox, 412 objects"},
		{jobs.Job{ID: "a1", Fabric: 3, State: jobs.Retrying, Attempts: 2, Error: "push refused", Done: 13, Total: 14},
			"job a1: fabric 3 retrying [##################--] 13/14 (attempt 2: push refused)"},
	} {
		require.Equal(t, tc.want, strings.TrimSpace(progressLine(tc.j)))
	}
}
