package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
)

// errScan is returned for input that is not a JSON object; callers check
// json.Valid first, so it only guards against misuse.
var errScan = errors.New("webhook: not a JSON object")

// eachField calls fn with the key and raw value of every member of the
// JSON object b, in order, without decoding the values. b must be valid
// JSON (json.Valid). One linear pass: the webhook body is read once to
// validate it and once here, instead of encoding/json's validate, decode
// and re-skip of the large "data" and "snapshots" members.
//
// key aliases b unless it had escapes (then it is a fresh unquoted copy):
// fn must not keep it. Comparing it as string(key) == "x" or switching on
// string(key) does not allocate.
func eachField(b []byte, fn func(key, val []byte)) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errScan
	}
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] != '}' {
		if b[i] != '"' {
			return errScan
		}
		end := skipString(b, i)
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 { // escaped key: let encoding/json unquote it
			var k string
			_ = json.Unmarshal(b[i:end], &k)
			key = []byte(k)
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return errScan
		}
		start := skipSpace(b, i+1)
		end = skipValue(b, start)
		fn(key, b[start:end])
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return len(b)
		}
		i += j
		bs := 0 // an odd run of backslashes escapes the quote
		for k := i - 1; k >= 0 && b[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			return i + 1
		}
		i++
	}
	return len(b)
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	default:
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
			i++
		}
		return i
	}
}
