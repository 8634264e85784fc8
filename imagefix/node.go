package imagefix

import (
	"archive/tar"
	"encoding/binary"
	"fmt"
)

// NodeXattr is the xattr in which remainroot's mode full records a device
// node it made as an empty regular file (the kernel refuses mknod of a
// device in a user namespace): 9 bytes, 'c' or 'b', then the major and
// minor numbers as little-endian 32-bit integers (shim.NodeXattr).
const NodeXattr = "user.remainroot.node"

// nodeRecordKey is the PAX record in which a layer tar carries that xattr.
const nodeRecordKey = "SCHILY.xattr." + NodeXattr

// applyNode turns a regular file that carries a node record into the
// device entry it stands for and drops the record; isNode reports whether
// it did. A record on anything but an empty regular file is forged.
func applyNode(hdr *tar.Header) (isNode bool, err error) {
	rec, ok := hdr.PAXRecords[nodeRecordKey]
	if !ok {
		return false, nil
	}
	if hdr.Typeflag != tar.TypeReg || hdr.Size != 0 {
		return false, fmt.Errorf("%s record on an entry that is not an empty regular file", NodeXattr)
	}
	if len(rec) != 9 || (rec[0] != 'c' && rec[0] != 'b') {
		return false, fmt.Errorf("bad %s record %q", NodeXattr, rec)
	}
	hdr.Typeflag = tar.TypeChar
	if rec[0] == 'b' {
		hdr.Typeflag = tar.TypeBlock
	}
	hdr.Devmajor = int64(binary.LittleEndian.Uint32([]byte(rec[1:5])))
	hdr.Devminor = int64(binary.LittleEndian.Uint32([]byte(rec[5:9])))
	delete(hdr.PAXRecords, nodeRecordKey)
	delete(hdr.Xattrs, NodeXattr) //nolint:staticcheck // the reader fills both
	return true, nil
}
