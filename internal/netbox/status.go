package netbox

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Tested NetBox versions, inclusive (DESIGN.md §3).
const (
	MinTestedVersion = "4.0"
	MaxTestedVersion = "4.7"
)

// Version returns NetBox's version from /api/status/, e.g. "4.7.3". It also
// proves the token is accepted.
func (c *Client) Version(ctx context.Context) (string, error) {
	st, resp, err := c.api.StatusAPI.StatusRetrieve(ctx).Execute()
	if err != nil {
		return "", httpError("status", resp, err)
	}
	v, _ := st["netbox-version"].(string)
	if v == "" {
		return "", fmt.Errorf("%w: status has no netbox-version", ErrUnexpected)
	}
	return v, nil
}

// InTestedRange reports whether version (e.g. "4.7.3" or "v4.5.0-beta1")
// lies within MinTestedVersion..MaxTestedVersion by major.minor.
func InTestedRange(version string) bool {
	mm := majorMinor(version)
	return mm != [2]int{} && !less(mm, majorMinor(MinTestedVersion)) && !less(majorMinor(MaxTestedVersion), mm)
}

func majorMinor(v string) [2]int {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return [2]int{}
	}
	digits := strings.FieldsFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' })
	if len(digits) == 0 || !strings.HasPrefix(parts[1], digits[0]) {
		return [2]int{}
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(digits[0])
	if err1 != nil || err2 != nil {
		return [2]int{}
	}
	return [2]int{major, minor}
}

func less(a, b [2]int) bool { return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]) }
