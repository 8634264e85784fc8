package shim

import (
	"bytes"

	"golang.org/x/sys/unix"
)

// In mode full the owner xattr and the ACL records (xattr_acl.go) are
// remainroot's bookkeeping: a traced program never sees them. getxattr of
// them says ENODATA, removexattr says ENODATA, setxattr is refused with
// EPERM (an owner is set with chown, an ACL with its own name), and
// listxattr leaves them out of the list (emuGetxattr and the others are in
// xattr_acl.go).

// listPlan runs listxattr and removes the hidden xattrs from the names it
// returned. With size 0 (a size query) the kernel's count stands: it stays
// an upper bound.
// xattrListMax is XATTR_LIST_MAX: the kernel never lists more bytes of
// names than this, whatever the buffer's size.
const xattrListMax = 65536

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
	if uint64(prev) > min(p.size, xattrListMax) {
		// More names than the kernel can have written: no kernel
		// result, so nothing to read the list by (FuzzEmulate).
		return nil, -int64(unix.EFAULT)
	}
	b := make([]byte, prev)
	if p.mem.ReadAt(b, p.list) != nil {
		return nil, prev
	}
	var out []byte
	for _, name := range bytes.SplitAfter(b, []byte{0}) {
		if len(name) > 0 && !(name[len(name)-1] == 0 && hiddenXattr(string(name[:len(name)-1]))) {
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
