package shim

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// The plans of the ACL xattr calls (xattr_acl.go). Every step is a call of
// the caller's own form (the same path, descriptor, directory and flags),
// so the kernel resolves each one as it resolves the caller's.

// The scratch area of an ACL plan.
const (
	aclScrName = 0  // the record's name
	aclScrArgs = 48 // struct xattr_args of a *xattrat step
	aclScrBuf  = 64 // a value to set, or the value read
	aclBufMax  = ScratchSize - aclScrBuf
)

// aclScratch lays out an ACL plan's steps.
type aclScratch struct{ base uint64 }

func (s aclScratch) name() uint64 { return s.base + aclScrName }
func (s aclScratch) buf() uint64  { return s.base + aclScrBuf }

// step is the caller's call (form sh, arguments call) made as op on the
// name at name, with the value buffer at the scratch buffer: size bytes
// of value to set, or room to read into. record is the name written at
// the scratch name.
func (s aclScratch) step(call Call, sh xattrShape, op xattrOp, name uint64, record string, value []byte, size uint64, flags uint32) *Step {
	in := make([]byte, aclScrBuf, aclScrBuf+len(value))
	copy(in[aclScrName:], record)
	in = append(in, value...)
	st := &Step{In: in, InAddr: s.base}
	if sh.form != formAt {
		st.Nr = xattrCalls[op][sh.form]
		switch op {
		case xattrGet:
			st.Args = [6]uint64{call.Args[0], name, s.buf(), size}
		case xattrSet:
			st.Args = [6]uint64{call.Args[0], name, s.buf(), size, uint64(flags)}
		case xattrRemove:
			st.Args = [6]uint64{call.Args[0], name}
		}
		return st
	}
	st.Nr = xattrAtCalls[op]
	st.Args = [6]uint64{call.Args[0], call.Args[1], call.Args[2], name}
	if op != xattrRemove {
		binary.LittleEndian.PutUint64(in[aclScrArgs:], s.buf())
		binary.LittleEndian.PutUint32(in[aclScrArgs+8:], uint32(size))
		binary.LittleEndian.PutUint32(in[aclScrArgs+12:], flags)
		st.Args[4], st.Args[5] = s.base+aclScrArgs, xattrArgsSize
	}
	return st
}

// aclSetPlan sets an ACL: first the kernel's (the caller's value, or the
// reduced one), whose result decides; then, in mode full, the record of
// the unmapped entries is written, or removed when there are none.
type aclSetPlan struct {
	call        Call
	s           aclScratch
	sh          xattrShape
	record      string
	full        bool
	kernelValue []byte // nil: the caller's value as it is
	flags       uint32
	recorded    []byte // nil: no unmapped entries
	state       int
}

func (p *aclSetPlan) Next(prev int64) (*Step, int64) {
	switch p.state {
	case 0:
		p.state = 1
		if p.kernelValue == nil {
			return &Step{Nr: p.call.Nr, Args: p.call.Args}, 0
		}
		return p.s.step(p.call, p.sh, xattrSet, p.call.Args[p.sh.nameArg()], "", p.kernelValue,
			uint64(len(p.kernelValue)), p.flags), 0
	case 1:
		if prev != 0 || !p.full {
			return nil, prev
		}
		p.state = 2
		if p.recorded == nil {
			return p.s.step(p.call, p.sh, xattrRemove, p.s.name(), p.record, nil, 0, 0), 0
		}
		return p.s.step(p.call, p.sh, xattrSet, p.s.name(), p.record, p.recorded, uint64(len(p.recorded)), 0), 0
	}
	switch -prev {
	case 0, int64(unix.ENODATA): // no record to remove
		return nil, 0
	case int64(unix.EOPNOTSUPP):
		// A filesystem without user xattrs: the unmapped entries are
		// dropped, as in mode creds.
		return nil, 0
	}
	return nil, prev
}

// aclGetPlan reads an ACL in mode full: the record first (nearly always
// absent: the caller's call then answers, in the stub without a second
// stop), then the kernel's ACL into the scratch area, merged with the
// record into the caller's buffer.
type aclGetPlan struct {
	call        Call
	mem         Memory
	s           aclScratch
	sh          xattrShape
	record      string
	value, size uint64 // the caller's buffer
	state       int
	recorded    []ACLEntry
}

// original is the caller's own call, whose result is the caller's.
func (p *aclGetPlan) original() *Step {
	p.state = 3
	return &Step{Nr: p.call.Nr, Args: p.call.Args, Direct: true}
}

func (p *aclGetPlan) Next(prev int64) (*Step, int64) {
	switch p.state {
	case 0:
		p.state = 1
		return p.s.step(p.call, p.sh, xattrGet, p.s.name(), p.record, nil, aclBufMax, 0), 0
	case 1:
		if prev <= 0 || prev > aclBufMax {
			return p.original(), 0
		}
		b := make([]byte, prev)
		if p.mem.ReadAt(b, p.s.buf()) != nil {
			return p.original(), 0
		}
		entries, err := DecodeACL(b)
		if err != nil || len(entries) == 0 {
			return p.original(), 0
		}
		p.recorded, p.state = entries, 2
		return p.s.step(p.call, p.sh, xattrGet, p.call.Args[p.sh.nameArg()], p.record, nil, aclBufMax, 0), 0
	case 2:
		if prev == -int64(unix.ERANGE) || prev > aclBufMax {
			return p.original(), 0 // larger than the scratch area: unmerged
		}
		if prev <= 0 {
			return nil, prev // ENODATA: no ACL, the record is stale
		}
		b := make([]byte, prev)
		if p.mem.ReadAt(b, p.s.buf()) != nil {
			return p.original(), 0
		}
		kernel, err := DecodeACL(b)
		if err != nil {
			return p.original(), 0
		}
		return nil, p.deliver(EncodeACL(MergeACL(kernel, p.recorded)))
	}
	return nil, prev
}

// deliver gives the caller value as getxattr(2) would: its size for a
// size query, ERANGE when the buffer is too small, EFAULT when it cannot
// be written.
func (p *aclGetPlan) deliver(value []byte) int64 {
	switch {
	case p.size == 0:
	case uint64(len(value)) > p.size:
		return -int64(unix.ERANGE)
	case p.mem.WriteAt(value, p.value) != nil:
		return -int64(unix.EFAULT)
	}
	return int64(len(value))
}

// Fuse: with no record (ENODATA, or any error: the caller's call gives its
// own), the caller's call follows in the stub. A record comes back to
// Next.
func (p *aclGetPlan) Fuse() (*Step, FuseRule, bool) {
	if p.state != 1 {
		return nil, FuseRule{}, false
	}
	second := &Step{Nr: p.call.Nr, Args: p.call.Args, Direct: true}
	return second, FuseRule{}, true
}

// Fused is not reached: the rule has no ModeAddr.
func (p *aclGetPlan) Fused(res int64) int64 { return res }

// aclRemovePlan removes an ACL in mode full: the kernel's, whose result
// decides, then the record (a record left behind, with no ACL, is never
// shown: see aclGetPlan).
type aclRemovePlan struct {
	call   Call
	s      aclScratch
	sh     xattrShape
	record string
	state  int
}

func (p *aclRemovePlan) Next(prev int64) (*Step, int64) {
	switch p.state {
	case 0:
		p.state = 1
		return &Step{Nr: p.call.Nr, Args: p.call.Args}, 0
	case 1:
		if prev != 0 {
			return nil, prev
		}
		p.state = 2
		return p.s.step(p.call, p.sh, xattrRemove, p.s.name(), p.record, nil, 0, 0), 0
	}
	return nil, 0
}
