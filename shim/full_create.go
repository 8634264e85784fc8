package shim

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// A file a process creates belongs to its filesystem ids. In mode full,
// when the emulated fsuid:fsgid is not 0:0 (which the kernel gives anyway),
// the new object gets them recorded: directories and regular files in the
// owner xattr, other objects in the table of special files. Device nodes are
// not emulated: mknod of a character or block device runs as it is and the
// kernel refuses it in a user namespace (EPERM), the behaviour users of
// rootless containers know.

// createPlan runs a creating call and records the new object's owner.
type createPlan struct {
	call  Call
	mem   Memory
	files Files
	s     scratch
	owner FileOwner
	// dfd/path name the new object after the call (not for open, whose
	// result is a descriptor).
	dfd, path uint64
	isOpen    bool
	excl      bool // O_EXCL: success means it was created
	mayBlock  bool
	state     int
	existed   bool
}

func newOwnerOf(c Creds) (FileOwner, bool) {
	o := FileOwner{UID: c.FSUID, GID: c.FSGID}
	return o, o != (FileOwner{})
}

func createOutcome(c Creds, call Call, mem Memory, env Env, p createPlan) (Creds, Outcome) {
	files := env.Files()
	owner, record := newOwnerOf(c)
	if files == nil || !record {
		return c, run(call.Args)
	}
	p.call, p.mem, p.files, p.s, p.owner = call, mem, files, scratch{env.Scratch()}, owner
	return c, steps(&p)
}

func (p *createPlan) Next(prev int64) (*Step, int64) {
	switch p.state {
	case 0:
		if p.isOpen && !p.excl {
			// Did the file exist? Only a file this call creates is the
			// caller's.
			p.state = 1
			return p.s.statStep(p.dfd, p.path, 0), 0
		}
		p.state = 2
		return &Step{Nr: p.call.Nr, Args: p.call.Args, MayBlock: p.mayBlock}, 0
	case 1:
		p.existed = prev == 0
		p.state = 2
		return &Step{Nr: p.call.Nr, Args: p.call.Args, MayBlock: p.mayBlock}, 0
	case 2:
		if prev < 0 {
			return nil, prev
		}
		if p.isOpen {
			if !p.existed {
				p.files.SetFDOwner(int(prev), p.owner)
			}
			return nil, prev
		}
		p.state = 3
		return p.s.statStep(p.dfd, p.path, unix.AT_SYMLINK_NOFOLLOW), 0
	case 3:
		if prev != 0 {
			return nil, 0
		}
		info, err := readStat(p.mem, p.s.stat())
		if err != nil {
			return nil, 0
		}
		if !holdsXattr(info.mode) {
			p.files.SetSpecial(info.dev, info.ino, p.owner)
			return nil, 0
		}
		p.state = 4
		step, err := p.s.setOwnerStep(p.mem, p.files, p.dfd, p.path, unix.AT_SYMLINK_NOFOLLOW, p.owner)
		if err != nil {
			return nil, 0
		}
		return step, 0
	}
	// The object exists whatever the xattr step said: the call succeeded.
	return nil, 0
}

func emuOpen(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	return createOutcome(c, call, mem, env, createPlan{dfd: fdcwd, path: call.Args[0], isOpen: true,
		excl: call.Args[1]&unix.O_EXCL != 0, mayBlock: true})
}

func emuCreat(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	return createOutcome(c, call, mem, env, createPlan{dfd: fdcwd, path: call.Args[0], isOpen: true, mayBlock: true})
}

func emuOpenat(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	return createOutcome(c, call, mem, env, createPlan{dfd: call.Args[0], path: call.Args[1], isOpen: true,
		excl: call.Args[2]&unix.O_EXCL != 0, mayBlock: true})
}

// emuOpenat2 reads the flags from struct open_how.
func emuOpenat2(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	b := make([]byte, 8)
	if mem.ReadAt(b, call.Args[2]) != nil {
		return c, run(call.Args)
	}
	flags := binary.LittleEndian.Uint64(b)
	if flags&unix.O_CREAT == 0 {
		return c, run(call.Args)
	}
	return createOutcome(c, call, mem, env, createPlan{dfd: call.Args[0], path: call.Args[1], isOpen: true,
		excl: flags&unix.O_EXCL != 0, mayBlock: true})
}

func emuMkdir(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	return createOutcome(c, call, mem, env, createPlan{dfd: fdcwd, path: call.Args[0]})
}

func emuMkdirat(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	return createOutcome(c, call, mem, env, createPlan{dfd: call.Args[0], path: call.Args[1]})
}

func emuMknod(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	if isDevice(call.Args[1]) {
		return c, deviceNode(c, call, mem, env, fdcwd, call.Args[0], 1)
	}
	return createOutcome(c, call, mem, env, createPlan{dfd: fdcwd, path: call.Args[0]})
}

func emuMknodat(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	if isDevice(call.Args[2]) {
		return c, deviceNode(c, call, mem, env, call.Args[0], call.Args[1], 2)
	}
	return createOutcome(c, call, mem, env, createPlan{dfd: call.Args[0], path: call.Args[1]})
}

func emuSymlink(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	return createOutcome(c, call, mem, env, createPlan{dfd: fdcwd, path: call.Args[1]})
}

func emuSymlinkat(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	return createOutcome(c, call, mem, env, createPlan{dfd: call.Args[1], path: call.Args[2]})
}
