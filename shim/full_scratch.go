package shim

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// The scratch area a full-mode plan lays out in the thread's memory.
const (
	scrName    = 0   // "user.rootlesscontainers\0"
	scrEmpty   = 32  // "\0", the path of an fd-based call
	scrArgs    = 48  // struct xattr_args {u64 value; u32 size; u32 flags}
	scrValue   = 64  // the xattr value, up to valueMax bytes
	scrStat    = 128 // a struct stat or statx
	valueMax   = 64
	scrMinSize = scrStat + statxSize
)

// scratch builds the inputs of a plan's steps.
type scratch struct{ base uint64 }

func (s scratch) name() uint64  { return s.base + scrName }
func (s scratch) empty() uint64 { return s.base + scrEmpty }
func (s scratch) args() uint64  { return s.base + scrArgs }
func (s scratch) value() uint64 { return s.base + scrValue }
func (s scratch) stat() uint64  { return s.base + scrStat }

// header is the fixed part every step writes: the name, the empty path
// and xattr_args pointing at the value buffer with size n.
func (s scratch) header(n int) []byte {
	b := make([]byte, scrValue)
	copy(b[scrName:], OwnerXattr)
	binary.LittleEndian.PutUint64(b[scrArgs:], s.value())
	binary.LittleEndian.PutUint32(b[scrArgs+8:], uint32(n))
	return b
}

// getOwnerStep reads the owner xattr of what (dfd, path, atFlags) names.
func (s scratch) getOwnerStep(dfd uint64, path uint64, atFlags uint64) *Step {
	return &Step{Nr: unix.SYS_GETXATTRAT, Args: [6]uint64{dfd, path, atFlags, s.name(), s.args(), 16},
		In: s.header(valueMax), InAddr: s.base}
}

// setOwnerStep records o on what (dfd, path, atFlags) names, or removes
// the xattr when o is 0:0 (no xattr means owned by the namespace's root).
func (s scratch) setOwnerStep(dfd, path, atFlags uint64, o FileOwner) *Step {
	if o == (FileOwner{}) {
		return &Step{Nr: unix.SYS_REMOVEXATTRAT, Args: [6]uint64{dfd, path, atFlags, s.name()},
			In: s.header(0), InAddr: s.base}
	}
	v := EncodeOwner(o)
	in := append(s.header(len(v)), v...)
	return &Step{Nr: unix.SYS_SETXATTRAT, Args: [6]uint64{dfd, path, atFlags, s.name(), s.args(), 16},
		In: in, InAddr: s.base}
}

// statStep lstat()s or stat()s what (dfd, path, flags) names into the
// scratch stat buffer.
func (s scratch) statStep(dfd, path, flags uint64) *Step {
	return &Step{Nr: unix.SYS_NEWFSTATAT, Args: [6]uint64{dfd, path, s.stat(), flags},
		In: s.header(0), InAddr: s.base}
}

// xattrAtFlags keeps the flags getxattrat and friends accept.
func xattrAtFlags(flags uint64) uint64 {
	return flags & (unix.AT_SYMLINK_NOFOLLOW | unix.AT_EMPTY_PATH)
}

// statInfo is what a plan needs from a struct stat.
type statInfo struct {
	dev, ino uint64
	mode     uint32
	owner    FileOwner
}

func readStat(mem Memory, addr uint64) (statInfo, error) {
	b := make([]byte, statSize)
	if err := mem.ReadAt(b, addr); err != nil {
		return statInfo{}, err
	}
	return statBufInfo(b), nil
}

// statxInfo reads a struct statx.
func statxInfo(b []byte) statInfo {
	return statInfo{
		mode:  uint32(binary.LittleEndian.Uint16(b[statxMode:])),
		ino:   binary.LittleEndian.Uint64(b[statxIno:]),
		dev:   makedev(binary.LittleEndian.Uint32(b[statxDevMj:]), binary.LittleEndian.Uint32(b[statxDevMn:])),
		owner: FileOwner{binary.LittleEndian.Uint32(b[statxUID:]), binary.LittleEndian.Uint32(b[statxGID:])},
	}
}

// statBufInfo reads a struct stat.
func statBufInfo(b []byte) statInfo {
	return statInfo{
		dev:   binary.LittleEndian.Uint64(b[statDev:]),
		ino:   binary.LittleEndian.Uint64(b[statIno:]),
		mode:  binary.LittleEndian.Uint32(b[statMode:]),
		owner: FileOwner{binary.LittleEndian.Uint32(b[statUID:]), binary.LittleEndian.Uint32(b[statGID:])},
	}
}

// holdsXattr reports whether an object of this mode can carry a user.*
// xattr: "user extended attributes may be assigned to files and
// directories" only (xattr(7)).
func holdsXattr(mode uint32) bool {
	t := mode & unix.S_IFMT
	return t == unix.S_IFREG || t == unix.S_IFDIR
}

// ownerFromXattr decodes a getxattr result; ok is false when there is no
// (usable) xattr.
func ownerFromXattr(mem Memory, s scratch, res int64) (FileOwner, bool) {
	if res <= 0 || res > valueMax {
		return FileOwner{}, false
	}
	b := make([]byte, res)
	if err := mem.ReadAt(b, s.value()); err != nil {
		return FileOwner{}, false
	}
	o, err := DecodeOwner(b)
	return o, err == nil
}

// makedev encodes a device number as struct stat's st_dev does.
func makedev(major, minor uint32) uint64 {
	return uint64(minor&0xff) | uint64(major&0xfff)<<8 | uint64(minor&^0xff)<<12 | uint64(major&^0xfff)<<32
}
