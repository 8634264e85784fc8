package shim

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"
)

// Device nodes in mode full, as fakeroot and pseudo make them for image and
// package builds. A mknod of a character or block device by a process with
// CAP_MKNOD (which the kernel checks in the initial user namespace, so it
// refuses every such mknod in a container) creates an empty regular file
// with the call's permission bits, records its owner (always, even 0:0: a
// stat finds the node record only after it finds an owner record, see
// statNodeStep) and records its type and device number in NodeXattr. The
// stat family then reports the node; remainroot fix-image turns it into a
// device entry of the layer. Opening it opens the empty file.
//
// The record is an xattr of its own rather than a field of the owner
// record: chown rewrites the owner record without reading it (and removes
// it for 0:0), and umoci and other readers of rootless-containers/proto,
// which know uid and gid only, would keep an unknown field's file a plain
// file without a word. NodeXattr is hidden from the traced programs as the
// owner record is (hiddenXattr).

// NodeXattr records a device node that mode full made as a regular file.
const NodeXattr = "user.remainroot.node"

// Node is a device node's type and number. Its record is nodeRecordLen
// bytes: 'c' (character) or 'b' (block), then the major and minor numbers
// as little-endian 32-bit integers.
type Node struct {
	Block        bool
	Major, Minor uint32
}

const nodeRecordLen = 9

// EncodeNode returns n's record.
func EncodeNode(n Node) []byte {
	b := make([]byte, nodeRecordLen)
	b[0] = 'c'
	if n.Block {
		b[0] = 'b'
	}
	binary.LittleEndian.PutUint32(b[1:], n.Major)
	binary.LittleEndian.PutUint32(b[5:], n.Minor)
	return b
}

// errNodeRecord is the error of a record that is not EncodeNode's.
var errNodeRecord = errors.New(NodeXattr + ": bad record")

// DecodeNode parses a record.
func DecodeNode(b []byte) (Node, error) {
	if len(b) != nodeRecordLen || (b[0] != 'c' && b[0] != 'b') {
		return Node{}, errNodeRecord
	}
	return Node{Block: b[0] == 'b', Major: binary.LittleEndian.Uint32(b[1:]), Minor: binary.LittleEndian.Uint32(b[5:])}, nil
}

// Type is the node's file type bits.
func (n Node) Type() uint32 {
	if n.Block {
		return unix.S_IFBLK
	}
	return unix.S_IFCHR
}

// isDevice reports whether a mknod mode makes a character or block device.
func isDevice(mode uint64) bool {
	t := uint32(mode) & unix.S_IFMT
	return t == unix.S_IFCHR || t == unix.S_IFBLK
}

// decodeDev reads mknod's device argument as the kernel does: an unsigned
// int in new_decode_dev's encoding.
func decodeDev(arg uint64) (major, minor uint32) {
	dev := uint32(arg)
	return (dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00)
}

// ownerRecord is an owner record that is never empty (an empty one reads
// as no record).
func ownerRecord(o FileOwner) []byte {
	if o == (FileOwner{}) {
		return EncodeRootOwner()
	}
	return EncodeOwner(o)
}

// deviceNode answers a mknod of a device: modeArg is the index of the
// call's mode argument, the device number follows it.
func deviceNode(c Creds, call Call, mem Memory, env Env, dfd, path uint64, modeArg int) Outcome {
	files := env.Files()
	major, minor := decodeDev(call.Args[modeArg+1])
	mode := uint32(call.Args[modeArg])
	switch {
	case files == nil:
		return run(call.Args)
	case mode&unix.S_IFMT == unix.S_IFCHR && major == 0 && minor == 0:
		// An overlayfs whiteout, which the kernel allows without
		// CAP_MKNOD.
		return run(call.Args)
	case !c.Caps.Effective.Has(CapMknod):
		// The kernel's EPERM (after its EEXIST, ENOENT, EACCES).
		return run(call.Args)
	}
	file := call.Args
	file[modeArg] = uint64(unix.S_IFREG | mode&^unix.S_IFMT)
	file[modeArg+1] = 0
	return steps(&nodePlan{file: Step{Nr: call.Nr, Args: file}, mem: mem, files: files, s: scratch{env.Scratch()},
		dfd: dfd, path: path, owner: FileOwner{UID: c.FSUID, GID: c.FSGID},
		node: Node{Block: mode&unix.S_IFMT == unix.S_IFBLK, Major: major, Minor: minor}})
}

// nodePlan makes a device node as a regular file with its records.
type nodePlan struct {
	file      Step // the mknod of the regular file
	mem       Memory
	files     Files
	s         scratch
	dfd, path uint64
	owner     FileOwner
	node      Node
	state     int
}

// States of a nodePlan.
const (
	nodeStart = iota
	nodeMade
	nodeOwned
	nodeRecorded
	nodeUndone
)

func (p *nodePlan) Next(prev int64) (*Step, int64) {
	switch p.state {
	case nodeStart:
		p.state = nodeMade
		step := p.file
		return &step, 0
	case nodeMade:
		if prev < 0 {
			return nil, prev
		}
		p.state = nodeOwned
		return p.set(OwnerXattr, ownerRecord(p.owner))
	case nodeOwned:
		if prev < 0 {
			return p.undo()
		}
		p.state = nodeRecorded
		return p.set(NodeXattr, EncodeNode(p.node))
	case nodeRecorded:
		if prev < 0 {
			return p.undo()
		}
		return nil, 0
	}
	// The records could not be written (a filesystem without user
	// xattrs): no node, as without remainroot.
	return nil, -int64(unix.EPERM)
}

// set writes the xattr name of the new file.
func (p *nodePlan) set(name string, value []byte) (*Step, int64) {
	step, err := p.s.xattrStep(p.mem, p.files, xattrSet, p.dfd, p.path, unix.AT_SYMLINK_NOFOLLOW, value)
	if err != nil {
		return p.undo()
	}
	return named(step, name), 0
}

// undo removes the file made for the node.
func (p *nodePlan) undo() (*Step, int64) {
	p.state = nodeUndone
	return &Step{Nr: unix.SYS_UNLINKAT, Args: [6]uint64{p.dfd, p.path, 0}}, 0
}

// named makes an owner xattr step (full_scratch.go) act on xattr name.
func named(step *Step, name string) *Step {
	for st := step; st != nil; st = st.Else {
		in := append([]byte(nil), st.In...)
		clear(in[scrName:scrNoType]) // names up to 23 bytes
		copy(in[scrName:scrNoType], name)
		st.In = in
	}
	return step
}

// statNodeStep is the step after a stat that found an owner record, when
// the stat's result in buf is an empty regular file: it reads the node
// record of the same object into the scratch value buffer. Nil: no node.
func statNodeStep(mem Memory, files Files, s scratch, dfd, path, atFlags, buf uint64, isStatx bool) *Step {
	n := statSize
	if isStatx {
		n = statxSize
	}
	b := make([]byte, n)
	if mem.ReadAt(b, buf) != nil || !emptyRegular(b, isStatx) {
		return nil
	}
	step, err := s.getOwnerStep(mem, files, dfd, path, atFlags)
	if err != nil {
		return nil
	}
	return named(step, NodeXattr)
}

// patchStatNode writes the node that statNodeStep's read found (res is its
// result) into the stat buffer.
func patchStatNode(mem Memory, s scratch, res int64, buf uint64, isStatx bool) {
	if res != nodeRecordLen {
		return
	}
	rec := make([]byte, nodeRecordLen)
	if mem.ReadAt(rec, s.value()) != nil {
		return
	}
	node, err := DecodeNode(rec)
	if err != nil {
		return
	}
	n := statSize
	if isStatx {
		n = statxSize
	}
	b := make([]byte, n)
	if mem.ReadAt(b, buf) != nil {
		return
	}
	patchNode(b, isStatx, node)
	_ = mem.WriteAt(b, buf)
}

// emptyRegular reports whether a struct stat (or statx) is of an empty
// regular file, what a node made by mode full is.
func emptyRegular(b []byte, isStatx bool) bool {
	if isStatx {
		return uint32(binary.LittleEndian.Uint16(b[statxMode:]))&unix.S_IFMT == unix.S_IFREG &&
			binary.LittleEndian.Uint64(b[statxSizeOff:]) == 0
	}
	return binary.LittleEndian.Uint32(b[statMode:])&unix.S_IFMT == unix.S_IFREG &&
		binary.LittleEndian.Uint64(b[statSizeOff:]) == 0
}

// patchNode makes a struct stat (or statx) of the node's file say what the
// node is: its type in the mode and its device number.
func patchNode(b []byte, isStatx bool, n Node) {
	if isStatx {
		mode := uint32(binary.LittleEndian.Uint16(b[statxMode:]))
		binary.LittleEndian.PutUint16(b[statxMode:], uint16(mode&^unix.S_IFMT|n.Type()))
		binary.LittleEndian.PutUint32(b[statxRdevMj:], n.Major)
		binary.LittleEndian.PutUint32(b[statxRdevMn:], n.Minor)
		return
	}
	mode := binary.LittleEndian.Uint32(b[statMode:])
	binary.LittleEndian.PutUint32(b[statMode:], mode&^unix.S_IFMT|n.Type())
	binary.LittleEndian.PutUint64(b[statRdev:], makedev(n.Major, n.Minor))
}

// fdNode returns the node recorded on what the thread's descriptor fd
// refers to, when it has an owner record (recorded) and its stat b is of an
// empty regular file.
func fdNode(files Files, fd int, b []byte, isStatx, recorded bool) (Node, bool) {
	if !recorded || !emptyRegular(b, isStatx) {
		return Node{}, false
	}
	return files.FDNode(fd)
}
