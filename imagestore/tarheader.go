package imagestore

import (
	"archive/tar"
	"bytes"
	"errors"
	"strconv"
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

// errSlowPath sends a header to archive/tar.
var errSlowPath = errors.New("not a plain header block")

// parseHeaders returns the header of one entry given its raw header
// blocks (what a tar-split segment holds after the padding of the entry
// before). A single ustar or GNU block of a common type with a good
// checksum is read here, fifty times faster than by archive/tar; anything
// else (PAX and GNU long-name records, base-256 numbers, sparse files, old
// formats) by archive/tar, which also gives every error.
func parseHeaders(blocks []byte) (*tar.Header, error) {
	if hdr, err := parseBlock(blocks); err == nil {
		return hdr, nil
	}
	return tar.NewReader(bytes.NewReader(blocks)).Next()
}

// parseBlock is parseHeaders' fast path.
func parseBlock(b []byte) (*tar.Header, error) {
	if len(b) != blockSize {
		return nil, errSlowPath
	}
	ustar := string(b[hdrMagic:hdrMagic+8]) == "ustar\x0000"
	gnu := string(b[hdrMagic:hdrMagic+8]) == "ustar  \x00"
	if !ustar && !gnu || ustar && string(b[hdrStarTail:hdrStarTail+4]) == "tar\x00" {
		return nil, errSlowPath
	}
	if gnu && (b[hdrGNUAtime] != 0 || b[hdrGNUCtime] != 0) {
		// archive/tar reads GNU times there, and takes a block whose
		// times do not parse for an old one with a name prefix.
		return nil, errSlowPath
	}
	flag := b[hdrTypeflag]
	if flag < '0' || flag > '7' {
		return nil, errSlowPath // '\x00' (a directory when the name ends in /), extensions
	}
	sum, err := octal(b[hdrChksum : hdrChksum+8])
	if err != nil || sum != checksum(b) {
		return nil, errSlowPath
	}
	mode, err1 := octal(b[hdrMode : hdrMode+8])
	uid, err2 := octal(b[hdrUID : hdrUID+8])
	gid, err3 := octal(b[hdrGID : hdrGID+8])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, errSlowPath
	}
	name := cString(b[hdrName : hdrName+100])
	if prefix := cString(b[hdrPrefix : hdrPrefix+155]); ustar && prefix != "" {
		name = prefix + "/" + name
	}
	return &tar.Header{Typeflag: flag, Name: name, Linkname: cString(b[hdrLinkname : hdrLinkname+100]),
		Mode: mode, Uid: int(uid), Gid: int(gid)}, nil
}

// octal parses a numeric field as archive/tar does for one without the
// base-256 bit: octal digits between blanks and NULs, empty for 0.
func octal(f []byte) (int64, error) {
	if len(f) > 0 && f[0]&0x80 != 0 {
		return 0, errSlowPath
	}
	s := string(bytes.Trim(f, " \x00"))
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 8, 63)
	return int64(v), err
}

// checksum is the unsigned sum of the block with its checksum field as
// blanks.
func checksum(b []byte) int64 {
	var sum int64
	for i, c := range b {
		if i >= hdrChksum && i < hdrChksum+8 {
			c = ' '
		}
		sum += int64(c)
	}
	return sum
}

// cString is a NUL-terminated field.
func cString(f []byte) string {
	if i := bytes.IndexByte(f, 0); i >= 0 {
		f = f[:i]
	}
	return string(f)
}
