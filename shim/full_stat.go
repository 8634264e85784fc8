package shim

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// statPlan emulates the stat family in mode full: the thread first reads
// the owner xattr of the object (getxattrat with the call's own directory,
// path and flags, so the kernel resolves it as the call will), then makes
// the stat call itself; a successful result gets the recorded owner written
// over the kernel's st_uid/st_gid. Objects without user xattrs take their
// owner from the table of special files; objects without a record, from
// their image's owners (Files.ImageOwners), when there are any. The mode is
// the kernel's: containers/storage applies an image's modes, special bits
// included, even where it cannot apply its owners.
type statPlan struct {
	call    Call
	mem     Memory
	files   Files
	s       scratch
	dfd     uint64
	path    uint64
	flags   uint64
	buf     uint64
	isStatx bool

	state int
	step1 *Step // the owner xattr lookup
	owner FileOwner
	found bool
}

func newStatPlan(call Call, mem Memory, files Files, scr uint64, dfd, path, flags, buf uint64, isStatx bool) Outcome {
	s := scratch{scr}
	if flags&unix.AT_EMPTY_PATH != 0 && (path == 0 || emptyString(mem, path)) {
		return statFD(mem, files, dfd, flags, buf, isStatx, uint32(call.Args[3]))
	}
	if path == 0 {
		// A NULL path without AT_EMPTY_PATH: the kernel's EFAULT.
		return run(call.Args)
	}
	return steps(&statPlan{call: call, mem: mem, files: files, s: s, dfd: dfd, path: path,
		flags: flags, buf: buf, isStatx: isStatx})
}

func (p *statPlan) Next(prev int64) (*Step, int64) {
	switch p.state {
	case 0:
		p.state = 1
		step, err := p.s.getOwnerStep(p.mem, p.files, p.dfd, p.path, xattrAtFlags(p.flags))
		if err == nil {
			p.step1 = step
			return step, 0
		}
		// The path cannot be read or is empty: the stat call itself gives
		// the error.
		fallthrough
	case 1:
		p.owner, p.found = ownerFromXattr(p.mem, p.files, p.s, prev)
		p.state = 2
		// The stat call itself. With no owner to write in, its result goes
		// straight to the thread; a struct stat call then runs as
		// newfstatat with StatMarker, which the filter lets through.
		if p.found || p.files.HasSpecial() || p.files.ImageOwners() != nil {
			return &Step{Nr: p.call.Nr, Args: p.call.Args}, 0
		}
		return p.direct(), 0
	}
	if p.state == statNode {
		patchStatNode(p.mem, p.s, prev, p.buf, p.isStatx)
		return nil, 0
	}
	if prev == 0 {
		p.patch()
		if step := p.nodeStep(); step != nil {
			p.state = statNode
			return step, 0
		}
	}
	return nil, prev
}

// statNode is the state of a statPlan reading a device node record
// (full_node.go).
const statNode = 3

// nodeStep reads the node record of an object with an owner record.
func (p *statPlan) nodeStep() *Step {
	if !p.found {
		return nil
	}
	return statNodeStep(p.mem, p.files, p.s, p.dfd, p.path, xattrAtFlags(p.flags), p.buf, p.isStatx)
}

// Fuse: with no special files recorded, a stat that finds no owner xattr
// is the stat call itself, whose result is the caller's (see Next). A
// positive result (an owner to decode) and the first step's fallback errno
// come back to Next.
func (p *statPlan) Fuse() (*Step, FuseRule, bool) {
	if p.state != 1 || p.step1 == nil {
		return nil, FuseRule{}, false
	}
	rule := FuseRule{}
	if p.step1.Else != nil {
		rule.Errno = p.step1.ElseOn
	}
	if p.files.HasSpecial() {
		// The table may hold the owner of what the stat finds.
		rule.ModeAddr = p.buf + statMode
		if p.isStatx {
			rule.ModeAddr = p.buf + statxMode
		}
	}
	if p.files.ImageOwners() != nil {
		// Any object may have an owner from its image: the stub looks
		// its inode up in the image filter and comes back to Fused when
		// the filter may hold it.
		rule.InoAddr = p.buf + statIno
		if p.isStatx {
			rule.InoAddr = p.buf + statxIno
		}
	}
	return p.direct(), rule, true
}

// Fused patches the result of a fused stat of a special file from the
// table, or of a file with an owner from its image.
func (p *statPlan) Fused(res int64) int64 {
	if res == 0 {
		p.patch()
	}
	return res
}

// direct is the stat call itself, with nothing to patch.
func (p *statPlan) direct() *Step {
	if !p.isStatx {
		return &Step{Nr: newfstatatNr, Args: [6]uint64{p.dfd, p.path, p.buf, p.flags | StatMarker},
			Direct: true, Untraced: true}
	}
	return &Step{Nr: p.call.Nr, Args: p.call.Args, Direct: true}
}

// patch writes the recorded owner into the caller's buffer.
func (p *statPlan) patch() {
	uidOff, gidOff := uint64(statUID), uint64(statGID)
	var info statInfo
	if p.isStatx {
		uidOff, gidOff = statxUID, statxGID
		b := make([]byte, statxSize)
		if p.mem.ReadAt(b, p.buf) != nil {
			return
		}
		info = statxInfo(b)
	} else {
		var err error
		if info, err = readStat(p.mem, p.buf); err != nil {
			return
		}
	}
	owner, ok := p.owner, p.found
	if !holdsXattr(info.mode) {
		owner, ok = p.files.Special(info.dev, info.ino)
	}
	if !ok {
		// No record: the owner the image gave it, if any.
		if owner, ok = imageOwner(p.files, info.dev, info.ino); !ok {
			return
		}
	}
	writeU32s(p.mem, p.buf+uidOff, owner.UID)
	writeU32s(p.mem, p.buf+gidOff, owner.GID)
}

// emptyString reports whether addr holds "".
func emptyString(mem Memory, addr uint64) bool {
	b := make([]byte, 1)
	return mem.ReadAt(b, addr) == nil && b[0] == 0
}

// statFD answers a stat of a descriptor (fstat, AT_EMPTY_PATH) in one
// stop: the tracer stats the object through the kernel's reference to it,
// writes the recorded owner in and copies the result to the caller.
func statFD(mem Memory, files Files, dfd, flags, buf uint64, isStatx bool, mask uint32) Outcome {
	fd := int(int32(dfd))
	b, err := files.StatFD(fd, isStatx, int(flags), mask)
	if err != nil {
		return fail(err)
	}
	var info statInfo
	uidOff, gidOff := statUID, statGID
	if isStatx {
		uidOff, gidOff = statxUID, statxGID
		info = statxInfo(b)
	} else {
		info = statBufInfo(b)
	}
	var o FileOwner
	var ok, recorded bool
	if holdsXattr(info.mode) {
		o, ok = files.FDOwner(fd)
		recorded = ok
	} else {
		o, ok = files.Special(info.dev, info.ino)
	}
	if !ok {
		o, ok = imageOwner(files, info.dev, info.ino)
	}
	if ok {
		binary.LittleEndian.PutUint32(b[uidOff:], o.UID)
		binary.LittleEndian.PutUint32(b[gidOff:], o.GID)
	}
	if n, isNode := fdNode(files, fd, b, isStatx, recorded); isNode {
		patchNode(b, isStatx, n)
	}
	if err := mem.WriteAt(b, buf); err != nil {
		return fail(unix.EFAULT)
	}
	return ret(0)
}

func emuStat(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	return c, newStatPlan(call, mem, env.Files(), env.Scratch(), fdcwd, call.Args[0], 0, call.Args[1], false)
}

func emuLstat(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	return c, newStatPlan(call, mem, env.Files(), env.Scratch(), fdcwd, call.Args[0], unix.AT_SYMLINK_NOFOLLOW, call.Args[1], false)
}

func emuFstat(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	return c, newStatPlan(call, mem, env.Files(), env.Scratch(), call.Args[0], 0, unix.AT_EMPTY_PATH, call.Args[1], false)
}

func emuNewfstatat(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	return c, newStatPlan(call, mem, env.Files(), env.Scratch(), call.Args[0], call.Args[1], call.Args[3], call.Args[2], false)
}

func emuStatx(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	return c, newStatPlan(call, mem, env.Files(), env.Scratch(), call.Args[0], call.Args[1], call.Args[2], call.Args[4], true)
}

// fdcwd is AT_FDCWD as a register holds it.
var fdcwd = func() uint64 { v := int64(unix.AT_FDCWD); return uint64(v) }()
