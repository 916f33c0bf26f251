package netbox

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"regexp"
	"slices"
)

// Refused reports whether err is NetBox refusing a write because of the
// data it holds or was sent, which no retry can change: a 4xx answer other
// than 401 (credentials), 404 (gone), 408, 412 (changed meanwhile) and 429
// (slow down), or a 500 that names a database constraint (the plugin's
// CHECK constraints are not known to Django's validation, so NetBox answers
// them with an IntegrityError).
func Refused(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.Status {
	case http.StatusUnauthorized, http.StatusNotFound, http.StatusRequestTimeout,
		http.StatusPreconditionFailed, http.StatusTooManyRequests:
		return false
	}
	if ae.Status >= 400 && ae.Status < 500 {
		return true
	}
	return ae.Status == http.StatusInternalServerError && constraintExceptions[ae.Exception]
}

// constraintExceptions are the exceptions NetBox names in a 500's JSON
// body when the database refused the data.
var constraintExceptions = map[string]bool{"IntegrityError": true, "DataError": true}

// constraintLine finds a database refusing data on the first line of an
// error, as PostgreSQL words it: "... violates check constraint ...",
// "duplicate key value violates unique constraint ...", "value too long
// for type ...".
var constraintLine = regexp.MustCompile(`^\{"error": ?"(?:[^\\]|\\[^n])*?(violates [a-z ]*constraint|value too long for type)`)

// ConstraintAnswer reports whether an answer of NetBox with status and
// (the start of) body is a database constraint refusing the data: NetBox
// is up, the write is wrong. The breaker treats such an answer as neutral.
// The body may be cut short: a database error's JSON holds the whole
// failing row before the exception's name, so its first line is read too.
func ConstraintAnswer(status int, body []byte) bool {
	if status != http.StatusInternalServerError {
		return false
	}
	var se struct {
		Exception string `json:"exception"`
	}
	if json.Unmarshal(body, &se) == nil {
		return constraintExceptions[se.Exception]
	}
	return constraintLine.Match(body)
}

// AsAPIError is err's *APIError, or nil.
func AsAPIError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

// constraintField finds the field of a "valid_<field>" CHECK constraint
// (the plugin's naming) in a database error.
var constraintField = regexp.MustCompile(`constraint "valid_([a-z0-9_]+)"`)

// RefusedFields are the fields a refusal names: the keys of a 400's JSON
// ({"sync_status": ["..."]}), or the field of a CHECK constraint named
// valid_<field>. Nil when it names none (a 403, say); "non_field_errors"
// and the like are returned as they are, so a caller can tell a refusal
// of its own values from one of the object's other data.
func (e *APIError) RefusedFields() []string {
	if e.Status == http.StatusBadRequest {
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(e.Body), &m) != nil {
			return nil
		}
		return slices.Sorted(maps.Keys(m))
	}
	if e.Status == http.StatusInternalServerError && constraintExceptions[e.Exception] {
		if m := constraintField.FindStringSubmatch(e.Body); m != nil {
			return []string{m[1]}
		}
	}
	return nil
}
