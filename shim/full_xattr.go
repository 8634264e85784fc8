package shim

import (
	"bytes"

	"golang.org/x/sys/unix"
)

// In mode full the owner xattr is remainroot's bookkeeping: a traced
// program never sees it. getxattr of it says ENODATA, removexattr says
// ENODATA, setxattr is refused with EPERM (an owner is set with chown), and
// listxattr leaves it out of the list.

// xattrNameArg is the index of the name argument per call.
var xattrNameArg = map[uintptr]int{
	unix.SYS_GETXATTRAT: 3, unix.SYS_SETXATTRAT: 3, unix.SYS_REMOVEXATTRAT: 3,
	unix.SYS_FGETXATTR: 1, unix.SYS_FSETXATTR: 1, unix.SYS_FREMOVEXATTR: 1,
}

func isOwnerXattr(mem Memory, addr uint64) bool {
	name, err := readPath(mem, addr)
	return err == nil && name == OwnerXattr
}

func emuXattrHide(refuse unix.Errno) handler {
	return func(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
		i, ok := xattrNameArg[call.Nr]
		if !ok {
			i = 1 // getxattr(path, name, ...) and friends
		}
		if env.Files() != nil && isOwnerXattr(mem, call.Args[i]) {
			return c, fail(refuse)
		}
		return c, run(call.Args)
	}
}

var (
	emuGetxattr    = emuXattrHide(unix.ENODATA)
	emuSetxattr    = emuXattrHide(unix.EPERM)
	emuRemovexattr = emuXattrHide(unix.ENODATA)
)

// listPlan runs listxattr and removes the owner xattr from the names it
// returned. With size 0 (a size query) the kernel's count stands: it stays
// an upper bound.
type listPlan struct {
	call       Call
	mem        Memory
	list, size uint64
	done       bool
}

func emuListxattr(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	if env.Files() == nil {
		return c, run(call.Args)
	}
	list, size := call.Args[1], call.Args[2]
	if call.Nr == unix.SYS_LISTXATTRAT {
		list, size = call.Args[3], call.Args[4]
	}
	if size == 0 {
		return c, run(call.Args)
	}
	return c, steps(&listPlan{call: call, mem: mem, list: list, size: size})
}

func (p *listPlan) Next(prev int64) (*Step, int64) {
	if !p.done {
		p.done = true
		return &Step{Nr: p.call.Nr, Args: p.call.Args}, 0
	}
	if prev <= 0 {
		return nil, prev
	}
	b := make([]byte, prev)
	if p.mem.ReadAt(b, p.list) != nil {
		return nil, prev
	}
	entry := append([]byte(OwnerXattr), 0)
	var out []byte
	for _, name := range bytes.SplitAfter(b, []byte{0}) {
		if len(name) > 0 && !bytes.Equal(name, entry) {
			out = append(out, name...)
		}
	}
	if len(out) == len(b) {
		return nil, prev
	}
	if len(out) > 0 && p.mem.WriteAt(out, p.list) != nil {
		return nil, prev
	}
	return nil, int64(len(out))
}
