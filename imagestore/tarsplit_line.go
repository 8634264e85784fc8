package imagestore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/vbatts/tar-split/tar/storage"
)

// decodeEntry decodes one JSON line of a tar-split file. The lines
// tar-split's JSON packer writes ({"type":2,"payload":"BASE64",...},
// {"type":1,"name":"...","size":N,...}) take a fast path that decodes only
// type, size and payload, in buf; anything else goes to encoding/json.
// The fast path costs a tenth of json.Unmarshal, which is most of the
// time of reading a layer.
//
// The caller does not need the payload's first skip bytes (the padding of
// the body before): the fast path leaves out the whole groups of three
// of them (four base64 characters each), which it neither checks nor
// decodes, and says how many bytes that is. The payload's length is
// skipped + len(e.Payload).
func decodeEntry(line, buf []byte, skip int) (storage.Entry, int, []byte, error) {
	if e, skipped, buf, ok := scanEntry(line, buf, skip); ok {
		return e, skipped, buf, nil
	}
	var e storage.Entry // on the heap: only here
	err := json.Unmarshal(line, &e)
	return e, 0, buf, err
}

// scanEntry is decodeEntry's fast path: a flat object whose values are
// numbers, null and strings; ok is false for anything it does not follow.
func scanEntry(line, buf []byte, skip int) (e storage.Entry, skipped int, out []byte, ok bool) {
	s := line
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return e, 0, buf, false
	}
	s = s[1 : len(s)-1]
	seenType := false
	for len(s) > 0 {
		key, rest, ok := scanString(s)
		if !ok || len(rest) == 0 || rest[0] != ':' {
			return e, 0, buf, false
		}
		s = rest[1:]
		var value []byte
		isString := len(s) > 0 && s[0] == '"'
		if isString {
			v, rest, ok := scanString(s)
			if !ok {
				return e, 0, buf, false
			}
			value, s = v, rest
		} else {
			end := bytes.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			value, s = s[:end], s[end:]
		}
		switch string(key) {
		case "type", "size", "position":
			if isString {
				return e, 0, buf, false
			}
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil {
				return e, 0, buf, false
			}
			switch string(key) {
			case "type":
				e.Type, seenType = storage.Type(n), true
			case "size":
				e.Size = n
			}
		case "payload":
			e.Payload, skipped = nil, 0
			if !isString {
				if string(value) != "null" {
					return e, 0, buf, false
				}
				break
			}
			if q := min(skip/3, len(value)/4-1); q > 0 {
				value, skipped = value[4*q:], 3*q
			}
			n := base64.StdEncoding.DecodedLen(len(value))
			if cap(buf) < n {
				buf = make([]byte, n)
			}
			m, err := base64.StdEncoding.Decode(buf[:n], value)
			if err != nil {
				return e, 0, buf, false
			}
			e.Payload = buf[:m]
		case "name", "name_raw":
			// Not needed: the tar header has the name.
		default:
			return e, 0, buf, false
		}
		if len(s) > 0 {
			if s[0] != ',' {
				return e, 0, buf, false
			}
			s = s[1:]
		}
	}
	if !seenType {
		return e, 0, buf, false
	}
	return e, skipped, buf, true
}

// scanString splits a JSON string without escapes off the start of s:
// its contents and what follows. A string with a backslash is left to
// encoding/json.
func scanString(s []byte) (str, rest []byte, ok bool) {
	if len(s) == 0 || s[0] != '"' {
		return nil, s, false
	}
	end := bytes.IndexByte(s[1:], '"')
	if end < 0 {
		return nil, s, false
	}
	str = s[1 : 1+end]
	if bytes.IndexByte(str, '\\') >= 0 {
		return nil, s, false
	}
	return str, s[2+end:], true
}
