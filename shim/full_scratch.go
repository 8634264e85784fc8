package shim

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// The scratch area a full-mode plan lays out in the thread's memory.
const (
	scrName   = 0                   // "user.rootlesscontainers\0"
	scrNoType = 24                  // 8 zero bytes: the end of names up to 23 bytes (full_node.go)
	scrEmpty  = 32                  // "\0", the path of an fd-based call
	scrDot    = 40                  // ".\0"
	scrArgs   = 48                  // struct xattr_args {u64 value; u32 size; u32 flags}
	scrValue  = 64                  // the xattr value read, up to valueMax bytes
	scrStat   = 128                 // a struct stat or statx
	scrPath   = scrStat + statxSize // a path built for the call, then a value to set
	valueMax  = 64
)

// scratch builds the inputs of a plan's steps.
type scratch struct{ base uint64 }

func (s scratch) name() uint64  { return s.base + scrName }
func (s scratch) empty() uint64 { return s.base + scrEmpty }
func (s scratch) dot() uint64   { return s.base + scrDot }
func (s scratch) args() uint64  { return s.base + scrArgs }
func (s scratch) value() uint64 { return s.base + scrValue }
func (s scratch) stat() uint64  { return s.base + scrStat }

// header is the fixed part every step writes: the name, the empty path,
// "." and room for struct xattr_args, up to the value buffer (the value and
// stat buffers are the kernel's to fill).
func (s scratch) header(int) []byte {
	b := make([]byte, scrValue)
	copy(b[scrName:], OwnerXattr)
	copy(b[scrDot:], ".")
	return b
}

// withPath is the header followed, at scrPath, by a path built for the
// call.
func (s scratch) withPath(p string) []byte {
	b := make([]byte, scrPath, scrPath+len(p)+1)
	copy(b, s.header(0))
	return append(append(b, p...), 0)
}

// xattrOp is one of the three owner xattr operations.
type xattrOp int

const (
	xattrGet xattrOp = iota
	xattrSet
	xattrRemove
)

// The classic xattr calls, by operation and target form: a path that
// follows symlinks, a path that does not (l*), a descriptor (f*). They are
// used rather than the *xattrat calls of Linux 6.13 because container
// runtimes' seccomp profiles refuse calls they do not know (ENOSYS).
var xattrCalls = [3][3]uintptr{
	xattrGet:    {unix.SYS_GETXATTR, unix.SYS_LGETXATTR, unix.SYS_FGETXATTR},
	xattrSet:    {unix.SYS_SETXATTR, unix.SYS_LSETXATTR, unix.SYS_FSETXATTR},
	xattrRemove: {unix.SYS_REMOVEXATTR, unix.SYS_LREMOVEXATTR, unix.SYS_FREMOVEXATTR},
}

// The *xattrat calls (Linux 6.13), by operation.
var xattrAtCalls = [3]uintptr{
	xattrGet:    unix.SYS_GETXATTRAT,
	xattrSet:    unix.SYS_SETXATTRAT,
	xattrRemove: unix.SYS_REMOVEXATTRAT,
}

// xattrStep builds the thread's call for op on what (dfd, path, atFlags)
// names, as the *at call would resolve it: the descriptor itself for an
// empty path with AT_EMPTY_PATH (f*xattr, or the /proc/self/fd/N link for
// an O_PATH descriptor), the path for an absolute one or AT_FDCWD, and for
// a path relative to a directory descriptor the *xattrat call, or, where a
// seccomp profile refuses it (ENOSYS), /proc/self/fd/DFD/PATH: the
// thread's own view of its descriptor, which needs procfs at /proc in the
// thread's root. value is the value to set.
func (s scratch) xattrStep(mem Memory, files Files, op xattrOp, dfd, path, atFlags uint64, value []byte) (*Step, error) {
	in := s.header(0)
	p := ""
	if path != s.empty() {
		// The scratch area holds its "" only once a step has written it:
		// read nothing there.
		var err error
		if p, err = readPath(mem, path); err != nil {
			return nil, err
		}
	}
	switch {
	case p == "" && atFlags&unix.AT_EMPTY_PATH != 0:
		if int32(dfd) == unix.AT_FDCWD {
			return s.xattrCall(op, 0, s.dot(), in, value), nil
		}
		step := s.xattrCall(op, 2, dfd, in, value)
		link := s.withPath(fmt.Sprintf("/proc/self/fd/%d", int32(dfd)))
		step.Else, step.ElseOn = s.xattrCall(op, 0, s.base+scrPath, link, value), unix.EBADF
		return step, nil
	case p == "":
		return nil, unix.ENOENT
	}
	form := 0
	if atFlags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		form = 1
	}
	if p[0] == '/' || int32(dfd) == unix.AT_FDCWD {
		return s.xattrCall(op, form, path, in, value), nil
	}
	full := fmt.Sprintf("/proc/self/fd/%d/%s", int32(dfd), p)
	if len(full) >= pathMax {
		return nil, unix.ENAMETOOLONG
	}
	viaProc := s.xattrCall(op, form, s.base+scrPath, s.withPath(full), value)
	if files != nil && files.Missing(xattrAtCalls[op]) {
		return viaProc, nil
	}
	step := s.xattrAtCall(op, dfd, path, atFlags, value)
	step.Else, step.ElseOn = viaProc, unix.ENOSYS
	return step, nil
}

// xattrAtCall lays out a *xattrat call with its struct xattr_args.
func (s scratch) xattrAtCall(op xattrOp, dfd, path, atFlags uint64, value []byte) *Step {
	in := s.header(0)
	step := &Step{Nr: xattrAtCalls[op], InAddr: s.base}
	switch op {
	case xattrGet:
		binary.LittleEndian.PutUint64(in[scrArgs:], s.value())
		binary.LittleEndian.PutUint32(in[scrArgs+8:], valueMax)
		step.Args = [6]uint64{dfd, path, atFlags, s.name(), s.args(), 16}
	case xattrSet:
		binary.LittleEndian.PutUint64(in[scrArgs:], s.base+uint64(len(in)))
		binary.LittleEndian.PutUint32(in[scrArgs+8:], uint32(len(value)))
		in = append(in, value...)
		step.Args = [6]uint64{dfd, path, atFlags, s.name(), s.args(), 16}
	case xattrRemove:
		step.Args = [6]uint64{dfd, path, atFlags, s.name()}
	}
	step.In = in
	return step
}

// xattrCall lays out one xattr call: form 0 (path), 1 (l*, path) or 2
// (f*, descriptor), on first, with in written to the scratch area first.
func (s scratch) xattrCall(op xattrOp, form int, first uint64, in, value []byte) *Step {
	step := &Step{Nr: xattrCalls[op][form], In: in, InAddr: s.base}
	switch op {
	case xattrGet:
		step.Args = [6]uint64{first, s.name(), s.value(), valueMax}
	case xattrSet:
		// The value goes after everything else in the scratch area.
		at := uint64(len(in))
		step.In = append(append([]byte(nil), in...), value...)
		step.Args = [6]uint64{first, s.name(), s.base + at, uint64(len(value)), 0}
	case xattrRemove:
		step.Args = [6]uint64{first, s.name()}
	}
	return step
}

// getOwnerStep reads the owner xattr of what (dfd, path, atFlags) names.
func (s scratch) getOwnerStep(mem Memory, files Files, dfd, path, atFlags uint64) (*Step, error) {
	return s.xattrStep(mem, files, xattrGet, dfd, path, atFlags, nil)
}

// setOwnerStep records o on what (dfd, path, atFlags) names. For 0:0 (no
// xattr means owned by the namespace's root) an object without a record
// gets none, and one with a record gets an explicit 0:0 (setxattr with
// XATTR_REPLACE, ENODATA when there was none): removing it would also hide
// a device node's record, which stat reads only behind an owner record
// (full_node.go). Where the image gives owners, no xattr means the image's
// owner: 0:0 is then always recorded as such.
func (s scratch) setOwnerStep(mem Memory, files Files, dfd, path, atFlags uint64, o FileOwner) (*Step, error) {
	if o == (FileOwner{}) {
		if files != nil && files.ImageOwners() != nil {
			return s.xattrStep(mem, files, xattrSet, dfd, path, atFlags, EncodeRootOwner())
		}
		step, err := s.xattrStep(mem, files, xattrSet, dfd, path, atFlags, EncodeRootOwner())
		if err == nil {
			replaceOnly(step)
		}
		return step, err
	}
	return s.xattrStep(mem, files, xattrSet, dfd, path, atFlags, EncodeOwner(o))
}

// replaceOnly makes a set step (and its fallbacks) XATTR_REPLACE: it fails
// with ENODATA where the object has no such xattr.
func replaceOnly(step *Step) {
	for ; step != nil; step = step.Else {
		if step.Nr == xattrAtCalls[xattrSet] {
			// struct xattr_args { u64 value; u32 size; u32 flags; }
			binary.LittleEndian.PutUint32(step.In[scrArgs+12:], unix.XATTR_REPLACE)
			continue
		}
		step.Args[4] = unix.XATTR_REPLACE
	}
}

// statStep lstat()s or stat()s what (dfd, path, flags) names into the
// scratch stat buffer.
func (s scratch) statStep(dfd, path, flags uint64) *Step {
	return &Step{Nr: unix.SYS_NEWFSTATAT, Args: [6]uint64{dfd, path, s.stat(), flags},
		In: s.header(0), InAddr: s.base}
}

// xattrAtFlags keeps the flags that choose the xattr call's form.
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
func ownerFromXattr(mem Memory, files Files, s scratch, res int64) (FileOwner, bool) {
	if res <= 0 || res > valueMax {
		return FileOwner{}, false
	}
	b := make([]byte, res)
	if err := mem.ReadAt(b, s.value()); err != nil {
		return FileOwner{}, false
	}
	o, err := DecodeOwner(b)
	if err != nil {
		files.Malformed(b, err)
		return FileOwner{}, false
	}
	return o, true
}

// makedev encodes a device number as struct stat's st_dev does.
func makedev(major, minor uint32) uint64 {
	return uint64(minor&0xff) | uint64(major&0xfff)<<8 | uint64(minor&^0xff)<<12 | uint64(major&^0xfff)<<32
}
