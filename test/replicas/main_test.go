// Package replicas runs three hnp-sidecar processes on one Redis, one Git
// remote and a real NetBox while a stream of VPC creates, edits and deletes
// goes through NetBox's REST API and replicas are killed (-9) and restarted.
// A comparer that reads the remote (git CLI) and NetBox independently of the
// reconciler then judges the end state and every commit on the branch.
//
// The short version (about 300 operations over 3 fabrics) runs in `go test
// ./test/replicas`; HNP_REPLICAS_LONG=1 (`make test-replicas`) runs at least
// 2,000 operations over 4 fabrics (HNP_REPLICAS_OPS to change the count).
// HNP_REPLICAS_RQWORKERS (default 2) NetBox RQ workers are added to the
// one NetBox runs, so webhooks reach the replicas concurrently. Skipped
// with -short (the comparer's own test runs).
package replicas

import (
	"os"
	"testing"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/build"
	netboxenv "github.com/githedgehog/hnp-sidecar/internal/testenv/netbox"
)

func TestMain(m *testing.M) {
	code := netboxenv.Main(m)
	build.Cleanup()
	os.Exit(code)
}
