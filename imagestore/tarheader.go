package imagestore

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"errors"
)

// The fields of a tar header block that an owner table needs (POSIX ustar
// and GNU layouts).
const (
	blockSize   = 512
	hdrName     = 0   // 100 bytes
	hdrMode     = 100 // 8
	hdrUID      = 108 // 8
	hdrGID      = 116 // 8
	hdrChksum   = 148 // 8
	hdrTypeflag = 156
	hdrLinkname = 157 // 100
	hdrMagic    = 257 // 6, then the version, 2
	hdrPrefix   = 345 // 155 (ustar only)
	hdrGNUAtime = 345 // 12 (GNU only)
	hdrGNUCtime = 357 // 12 (GNU only)
	hdrStarTail = 508 // "tar\x00" in the star format
)

// header is what the merger needs of one tar entry: its type, owner and
// mode, name and link name. The names are bytes of the block they were
// read from (or of name, for a ustar name with a prefix), valid until the
// next entry is read: no string is made for an entry the merger passes
// over.
type header struct {
	typeflag       byte
	mode, uid, gid int64
	name, linkname []byte
	// buf holds a ustar name joined to its prefix.
	buf []byte
}

// headerOf is the header of an archive/tar header.
func headerOf(h *tar.Header) *header {
	return &header{typeflag: h.Typeflag, mode: h.Mode, uid: int64(h.Uid), gid: int64(h.Gid),
		name: []byte(h.Name), linkname: []byte(h.Linkname)}
}

// errSlowPath sends a header to archive/tar.
var errSlowPath = errors.New("not a plain header block")

// parseHeaders reads the header of one entry into h given its raw header
// blocks (what a tar-split segment holds after the padding of the entry
// before). A single ustar or GNU block of a common type with a good
// checksum is read here, without archive/tar's allocations (two hundred
// times faster); anything else (PAX and GNU long-name records, base-256
// numbers, sparse files, old formats) by archive/tar, which also gives
// every error.
func parseHeaders(blocks []byte, h *header) error {
	if parseBlock(blocks, h) == nil {
		return nil
	}
	hdr, err := tar.NewReader(bytes.NewReader(blocks)).Next()
	if err != nil {
		return err
	}
	*h = *headerOf(hdr)
	return nil
}

// parseBlock is parseHeaders' fast path.
func parseBlock(b []byte, h *header) error {
	if len(b) != blockSize {
		return errSlowPath
	}
	ustar := string(b[hdrMagic:hdrMagic+8]) == "ustar\x0000"
	gnu := string(b[hdrMagic:hdrMagic+8]) == "ustar  \x00"
	if !ustar && !gnu || ustar && string(b[hdrStarTail:hdrStarTail+4]) == "tar\x00" {
		return errSlowPath
	}
	if gnu && (b[hdrGNUAtime] != 0 || b[hdrGNUCtime] != 0) {
		// archive/tar reads GNU times there, and takes a block whose
		// times do not parse for an old one with a name prefix.
		return errSlowPath
	}
	flag := b[hdrTypeflag]
	if flag < '0' || flag > '7' {
		return errSlowPath // '\x00' (a directory when the name ends in /), extensions
	}
	sum, ok1 := octal(b[hdrChksum : hdrChksum+8])
	if !ok1 || sum != checksum(b) {
		return errSlowPath
	}
	mode, ok1 := octal(b[hdrMode : hdrMode+8])
	uid, ok2 := octal(b[hdrUID : hdrUID+8])
	gid, ok3 := octal(b[hdrGID : hdrGID+8])
	if !ok1 || !ok2 || !ok3 {
		return errSlowPath
	}
	h.typeflag, h.mode, h.uid, h.gid = flag, mode, uid, gid
	h.name = cString(b[hdrName : hdrName+100])
	h.linkname = cString(b[hdrLinkname : hdrLinkname+100])
	if prefix := cString(b[hdrPrefix : hdrPrefix+155]); ustar && len(prefix) > 0 {
		h.buf = append(append(append(h.buf[:0], prefix...), '/'), h.name...)
		h.name = h.buf
	}
	return nil
}

// octal parses a numeric field as archive/tar does for one without the
// base-256 bit: octal digits between blanks and NULs, empty for 0. ok is
// false for anything else (which archive/tar reads or refuses).
func octal(f []byte) (v int64, ok bool) {
	if len(f) > 0 && f[0]&0x80 != 0 {
		return 0, false
	}
	f = bytes.Trim(f, " \x00")
	if len(f) > 20 {
		return 0, false // more than 63 bits
	}
	for _, c := range f {
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v<<3 | int64(c-'0')
	}
	return v, v >= 0
}

// checksum is the unsigned sum of a block with its checksum field as
// blanks, eight bytes at a time: two sums of four 16-bit lanes, each at
// most 64 × 255.
func checksum(b []byte) int64 {
	const lanes = 0x00ff00ff00ff00ff
	var even, odd uint64
	for i := 0; i+8 <= blockSize; i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		even += x & lanes
		odd += x >> 8 & lanes
	}
	s := even + odd // 16-bit lanes of at most 32,640
	sum := int64(s&0xffff + s>>16&0xffff + s>>32&0xffff + s>>48)
	for _, c := range b[hdrChksum : hdrChksum+8] {
		sum += int64(' ') - int64(c)
	}
	return sum
}

// cString is a NUL-terminated field.
func cString(f []byte) []byte {
	if i := bytes.IndexByte(f, 0); i >= 0 {
		f = f[:i]
	}
	return f
}
