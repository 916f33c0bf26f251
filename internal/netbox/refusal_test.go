package netbox

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// NetBox's JSON for an exception in an API view (DEBUG off), as the real
// plugin's CHECK constraint produces it; the DETAIL line holds the row.
const integrityBody = `{"error": "new row for relation \"netbox_hedgehog_hedgehogfabric\" violates check constraint \"valid_sync_status\"\nDETAIL:  Failing row contains (1, fab, secret-token-123).", "exception": "IntegrityError", "netbox_version": "4.7.3", "python_version": "3.13.0"}`

func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   bool
	}{
		{400, `{"watch_crd_types":["This field cannot be blank."]}`, true},
		{403, `{"detail":"You do not have permission to perform this action."}`, true},
		{422, ``, true},
		{401, `{"detail":"Invalid token"}`, false},
		{404, `{"detail":"Not found."}`, false},
		{408, ``, false},
		{412, ``, false},
		{429, ``, false},
		{500, integrityBody, true},
		{500, `{"error": "value too long", "exception": "DataError"}`, true},
		{500, `{"error": "boom", "exception": "ZeroDivisionError"}`, false},
		{500, `<html>Server Error</html>`, false},
		{502, integrityBody, false},
		{503, ``, false},
	} {
		err := fmt.Errorf("netbox: update fabric 1: %w", newAPIError("PATCH", "/x/", tc.status, []byte(tc.body)))
		require.Equal(t, tc.want, Refused(err), "%d %s", tc.status, tc.body)
	}
	require.False(t, Refused(nil))
	require.False(t, Refused(fmt.Errorf("netbox: dial: connection refused")))
	require.True(t, ConstraintAnswer(http.StatusInternalServerError, []byte(integrityBody[:150])),
		"a body cut short before its exception: the first line says constraint")
	require.False(t, ConstraintAnswer(http.StatusInternalServerError, []byte(`{"error": "boom\nDETAIL: violates check constraint`)),
		"only the first line counts")
}

// A database error's DETAIL line (the whole failing row, with secrets) never
// reaches a log line or a journal entry.
func TestAnswerHidesTheFailingRow(t *testing.T) {
	e := newAPIError("PATCH", "/api/plugins/hedgehog/fabrics/1/", 500, []byte(integrityBody))
	require.Equal(t, `IntegrityError: new row for relation "netbox_hedgehog_hedgehogfabric" violates check constraint "valid_sync_status"`, e.Answer())
	require.NotContains(t, e.Error(), "secret-token-123")
	require.NotContains(t, newAPIError("GET", "/", 500, []byte("plain\nsecret-token-123")).Error(), "secret-token-123")
	cut := integrityBody[:len(integrityBody)-60] // cut short: not JSON any more
	require.NotContains(t, newAPIError("PATCH", "/", 500, []byte(cut)).Error(), "secret-token-123",
		"a body that is no JSON keeps no failing row either")
	require.NotContains(t, newAPIError("PATCH", "/", 500, []byte(`oops token=abcdefgh12345678 DETAIL: row`)).Error(), "abcdefgh12345678")
	require.Equal(t, `{"watch_crd_types":["This field cannot be blank."]}`,
		newAPIError("PATCH", "/", 400, []byte(`{"watch_crd_types":["This field cannot be blank."]}`)).Answer())
}

func TestRefusedFields(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   []string
	}{
		{400, `{"watch_crd_types":["This field cannot be blank."]}`, []string{"watch_crd_types"}},
		{400, `{"sync_status":["\"synced\" is not a valid choice."],"drift_status":["bad"]}`, []string{"drift_status", "sync_status"}},
		{400, `["not an object"]`, nil},
		{500, integrityBody, []string{"sync_status"}},
		{500, `{"error": "duplicate key value violates unique constraint \"x\"", "exception": "IntegrityError"}`, nil},
		{403, `{"detail":"no"}`, nil},
	} {
		require.Equal(t, tc.want, newAPIError("PATCH", "/", tc.status, []byte(tc.body)).RefusedFields(), tc.body)
	}
}

func TestArgocdHealthStatus(t *testing.T) {
	for argo, want := range map[string]string{"": "", "Healthy": "healthy", "Degraded": "degraded", "Missing": "unhealthy",
		"Suspended": "unhealthy", "Progressing": "unknown", "Unknown": "unknown"} {
		require.Equal(t, want, ArgocdHealthStatus(argo), argo)
	}
}
