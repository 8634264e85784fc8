package shim

import (
	"encoding/binary"
	"errors"
)

// OwnerXattr is the extended attribute in which rootless tools record a
// file's owner (rootless-containers/proto): umoci, and remainroot's full
// mode.
const OwnerXattr = "user.rootlesscontainers"

// EncodeOwner returns the protobuf `message Resource { uint32 uid = 1;
// uint32 gid = 2; }` for o. Zero fields are omitted, as protobuf does.
func EncodeOwner(o FileOwner) []byte {
	var b []byte
	if o.UID != 0 {
		b = append(b, 0x08)
		b = binary.AppendUvarint(b, uint64(o.UID))
	}
	if o.GID != 0 {
		b = append(b, 0x10)
		b = binary.AppendUvarint(b, uint64(o.GID))
	}
	return b
}

// EncodeRootOwner is a Resource that says 0:0 with both fields present
// (EncodeOwner's is empty, and an empty xattr reads as no record): the
// record of a chown to 0:0 of a file whose image gives it another owner.
func EncodeRootOwner() []byte { return []byte{0x08, 0x00, 0x10, 0x00} }

// DecodeOwner parses a Resource. Absent fields are 0; NoID (0xFFFFFFFF) in
// a field means "unchanged", that is, 0 as well. Unknown fields are
// skipped.
func DecodeOwner(b []byte) (FileOwner, error) {
	var o FileOwner
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return o, errors.New("rootlesscontainers: bad field key")
		}
		b = b[n:]
		field, wire := key>>3, key&7
		switch wire {
		case 0:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return o, errors.New("rootlesscontainers: bad varint")
			}
			b = b[n:]
			id := uint32(v)
			if id == NoID {
				id = 0
			}
			switch field {
			case 1:
				o.UID = id
			case 2:
				o.GID = id
			}
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return o, errors.New("rootlesscontainers: bad length")
			}
			b = b[n+int(l):]
		case 1:
			if len(b) < 8 {
				return o, errors.New("rootlesscontainers: short fixed64")
			}
			b = b[8:]
		case 5:
			if len(b) < 4 {
				return o, errors.New("rootlesscontainers: short fixed32")
			}
			b = b[4:]
		default:
			return o, errors.New("rootlesscontainers: unknown wire type")
		}
	}
	return o, nil
}

// Merge applies chown's -1 rule: NoID keeps the current id.
func (o FileOwner) Merge(uid, gid uint32) FileOwner {
	if uid != NoID {
		o.UID = uid
	}
	if gid != NoID {
		o.GID = gid
	}
	return o
}
