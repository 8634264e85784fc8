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

// applyNode turns an empty regular file that carries a node record into
// the device entry it stands for; changed reports whether hdr changed. The
// record is dropped from every entry. A hard link carries the record of
// the file it links to (containers/storage reads the xattrs of each name),
// which gets the device entry; a regular file that is not empty was written
// to after its mknod and stays the file the container saw (its stat there
// showed no node either). A record on any other entry is forged.
func applyNode(hdr *tar.Header) (changed bool, err error) {
	rec, ok := hdr.PAXRecords[nodeRecordKey]
	if !ok {
		return false, nil
	}
	if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeLink {
		return false, fmt.Errorf("%s record on an entry that is not a regular file", NodeXattr)
	}
	if len(rec) != 9 || (rec[0] != 'c' && rec[0] != 'b') {
		return false, fmt.Errorf("bad %s record %q", NodeXattr, rec)
	}
	delete(hdr.PAXRecords, nodeRecordKey)
	delete(hdr.Xattrs, NodeXattr) //nolint:staticcheck // the reader fills both
	if hdr.Typeflag != tar.TypeReg || hdr.Size != 0 {
		return true, nil
	}
	hdr.Typeflag = tar.TypeChar
	if rec[0] == 'b' {
		hdr.Typeflag = tar.TypeBlock
	}
	hdr.Devmajor = int64(binary.LittleEndian.Uint32([]byte(rec[1:5])))
	hdr.Devminor = int64(binary.LittleEndian.Uint32([]byte(rec[5:9])))
	return true, nil
}
