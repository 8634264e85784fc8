package imagefix

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// OwnerXattr is the xattr in which rootless tools (umoci --rootless,
// remainroot's mode full) record a file's owner: rootless-containers/proto
// `message Resource { uint32 uid = 1; uint32 gid = 2; }`.
const OwnerXattr = "user.rootlesscontainers"

// ownerRecordKey is the PAX record in which a layer tar carries that xattr.
const ownerRecordKey = "SCHILY.xattr." + OwnerXattr

// unchangedID (0xFFFFFFFF) in a record's field keeps the entry's own id.
const unchangedID = ^uint32(0)

// maxRecordLen bounds a record: two varints fit in 12 bytes.
const maxRecordLen = 64

// errRecord is wrapped by every record decoding error.
var errRecord = errors.New("bad " + OwnerXattr + " record")

// Owner is a file's uid and gid.
type Owner struct{ UID, GID uint32 }

// isRoot says whether o is 0:0.
func (o Owner) isRoot() bool { return o.UID == 0 && o.GID == 0 }

// applyRecord decodes a Resource and applies it to own: absent fields are
// 0, unchangedID keeps own's id, unknown fields are skipped.
func applyRecord(own Owner, rec []byte) (Owner, error) {
	if len(rec) > maxRecordLen {
		return own, fmt.Errorf("%w: %d bytes", errRecord, len(rec))
	}
	uid, gid := uint32(0), uint32(0)
	for len(rec) > 0 {
		num, typ, n := protowire.ConsumeTag(rec)
		if n < 0 {
			return own, fmt.Errorf("%w: %v", errRecord, protowire.ParseError(n))
		}
		rec = rec[n:]
		if (num == 1 || num == 2) && typ == protowire.VarintType {
			v, n := protowire.ConsumeVarint(rec)
			if n < 0 {
				return own, fmt.Errorf("%w: field %d: %v", errRecord, num, protowire.ParseError(n))
			}
			rec = rec[n:]
			if num == 1 {
				uid = uint32(v)
			} else {
				gid = uint32(v)
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, rec)
		if n < 0 {
			return own, fmt.Errorf("%w: field %d: %v", errRecord, num, protowire.ParseError(n))
		}
		rec = rec[n:]
	}
	if uid != unchangedID {
		own.UID = uid
	}
	if gid != unchangedID {
		own.GID = gid
	}
	return own, nil
}
