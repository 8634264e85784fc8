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
func decodeEntry(line, buf []byte) (storage.Entry, []byte, error) {
	if e, buf, ok := scanEntry(line, buf); ok {
		return e, buf, nil
	}
	var e storage.Entry
	err := json.Unmarshal(line, &e)
	return e, buf, err
}

// scanEntry is decodeEntry's fast path: a flat object whose values are
// numbers, null and strings; ok is false for anything it does not follow.
func scanEntry(line, buf []byte) (e storage.Entry, out []byte, ok bool) {
	s := line
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return e, buf, false
	}
	s = s[1 : len(s)-1]
	seenType := false
	for len(s) > 0 {
		key, rest, ok := scanString(s)
		if !ok || len(rest) == 0 || rest[0] != ':' {
			return e, buf, false
		}
		s = rest[1:]
		var value []byte
		isString := len(s) > 0 && s[0] == '"'
		if isString {
			v, rest, ok := scanString(s)
			if !ok {
				return e, buf, false
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
				return e, buf, false
			}
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil {
				return e, buf, false
			}
			switch string(key) {
			case "type":
				e.Type, seenType = storage.Type(n), true
			case "size":
				e.Size = n
			}
		case "payload":
			if !isString {
				if string(value) != "null" {
					return e, buf, false
				}
				break
			}
			n := base64.StdEncoding.DecodedLen(len(value))
			if cap(buf) < n {
				buf = make([]byte, n)
			}
			m, err := base64.StdEncoding.Decode(buf[:n], value)
			if err != nil {
				return e, buf, false
			}
			e.Payload = buf[:m]
		case "name", "name_raw":
			// Not needed: the tar header has the name.
		default:
			return e, buf, false
		}
		if len(s) > 0 {
			if s[0] != ',' {
				return e, buf, false
			}
			s = s[1:]
		}
	}
	return e, buf, seenType
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
