// Package webhook receives NetBox event-rule webhooks: it caps and reads the
// body, verifies the HMAC signature before anything else, parses every
// payload shape NetBox 4.0–4.7 sends, and records a hint for the object in
// the queue. It does nothing more.
package webhook

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"errors"
)

// SignatureHeader carries NetBox's lowercase hex HMAC-SHA512 of the body.
const SignatureHeader = "X-Hook-Signature"

// Signature errors.
var (
	ErrMissingSignature = errors.New("webhook: missing " + SignatureHeader + " header")
	ErrBadSignature     = errors.New("webhook: signature does not match")
)

// Sign returns the signature NetBox sends for body with secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha512.New, secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks header against the HMAC-SHA512 of the raw body in constant
// time. It never looks at the body's content.
func Verify(secret, body []byte, header string) error {
	if header == "" {
		return ErrMissingSignature
	}
	got, err := hex.DecodeString(header)
	if err != nil || len(got) != sha512.Size {
		return ErrBadSignature
	}
	m := hmac.New(sha512.New, secret)
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}
