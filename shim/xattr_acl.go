package shim

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// POSIX ACLs in a namespace that maps few ids. setxattr of
// system.posix_acl_access or system.posix_acl_default fails EINVAL when an
// entry names a uid or gid the caller's user namespace does not map
// (posix_acl_from_xattr): systemd's `setfacl -m g:adm:r-x /var/log/journal`
// does that. The thread instead sets the ACL reduced to the entries the
// namespace maps (ReduceACL; the mask stays), so that path lookup,
// permission (owner or CAP_FOWNER), read-only mounts and the mode update
// are the kernel's own. In mode creds that is all: the unmapped entries are
// dropped, as chown's ids are. In mode full they are recorded in a
// remainroot xattr beside the ACL (aclRecords) and merged back into what
// getxattr of the ACL returns. A value the kernel would refuse anyway, or
// one naming only mapped ids, goes to the kernel unchanged.

// aclRecords names, for each ACL xattr, the xattr in which mode full keeps
// the entries the kernel's ACL cannot hold, in the ACL xattr format.
var aclRecords = map[string]string{
	ACLAccessXattr:  "user.remainroot.posix_acl_access",
	ACLDefaultXattr: "user.remainroot.posix_acl_default",
}

// hiddenXattr reports whether name is remainroot's bookkeeping in mode
// full: the owner record, the device node record and the ACL records.
func hiddenXattr(name string) bool {
	return name == OwnerXattr || name == NodeXattr || name == aclRecords[ACLAccessXattr] || name == aclRecords[ACLDefaultXattr]
}

// xattrForm is how an xattr call names its object: 0 a path, 1 a path
// without following a final symlink (l*), 2 a descriptor (f*), 3 a path
// relative to a directory descriptor with a struct xattr_args (*xattrat).
type xattrForm int

const formAt xattrForm = 3

// xattrShape is where one xattr call keeps its arguments.
type xattrShape struct {
	op   xattrOp
	form xattrForm
}

var xattrShapes = map[uintptr]xattrShape{
	unix.SYS_GETXATTR: {xattrGet, 0}, unix.SYS_LGETXATTR: {xattrGet, 1},
	unix.SYS_FGETXATTR: {xattrGet, 2}, unix.SYS_GETXATTRAT: {xattrGet, formAt},
	unix.SYS_SETXATTR: {xattrSet, 0}, unix.SYS_LSETXATTR: {xattrSet, 1},
	unix.SYS_FSETXATTR: {xattrSet, 2}, unix.SYS_SETXATTRAT: {xattrSet, formAt},
	unix.SYS_REMOVEXATTR: {xattrRemove, 0}, unix.SYS_LREMOVEXATTR: {xattrRemove, 1},
	unix.SYS_FREMOVEXATTR: {xattrRemove, 2}, unix.SYS_REMOVEXATTRAT: {xattrRemove, formAt},
}

// nameArg is the index of the name argument.
func (sh xattrShape) nameArg() int {
	if sh.form == formAt {
		return 3
	}
	return 1
}

// xattrArgsSize is sizeof(struct xattr_args) { u64 value; u32 size; u32
// flags; }, XATTR_ARGS_SIZE_VER0.
const xattrArgsSize = 16

// valueArgs returns the value pointer, size and flags of a get or set
// call. For *xattrat they are read from the caller's struct xattr_args;
// ok is false when that struct is not exactly the version-0 one, or cannot
// be read (the kernel then decides: EINVAL, E2BIG or EFAULT).
func (sh xattrShape) valueArgs(call Call, mem Memory) (value, size uint64, flags uint32, ok bool) {
	if sh.form != formAt {
		return call.Args[2], call.Args[3], uint32(call.Args[4]), true
	}
	if call.Args[5] != xattrArgsSize {
		return 0, 0, 0, false
	}
	b := make([]byte, xattrArgsSize)
	if mem.ReadAt(b, call.Args[4]) != nil {
		return 0, 0, 0, false
	}
	return binary.LittleEndian.Uint64(b), uint64(binary.LittleEndian.Uint32(b[8:])),
		binary.LittleEndian.Uint32(b[12:]), true
}

// xattrName reads the call's name; ok is false when it cannot be read
// (the call itself then gives the kernel's error).
func xattrName(call Call, mem Memory) (xattrShape, string, bool) {
	sh, ok := xattrShapes[call.Nr]
	if !ok {
		return sh, "", false
	}
	name, err := readPath(mem, call.Args[sh.nameArg()])
	return sh, name, err == nil
}

func emuSetxattr(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	sh, name, ok := xattrName(call, mem)
	switch {
	case !ok:
	case env.Files() != nil && hiddenXattr(name):
		// An owner is set with chown, an ACL with its own name.
		return c, fail(unix.EPERM)
	case aclRecords[name] != "":
		return c, setACL(call, mem, env, sh, aclRecords[name])
	}
	return c, run(call.Args)
}

func emuGetxattr(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	if env.Files() == nil {
		return c, run(call.Args)
	}
	sh, name, ok := xattrName(call, mem)
	switch {
	case !ok:
	case hiddenXattr(name):
		return c, fail(unix.ENODATA)
	case aclRecords[name] != "":
		return c, getACL(call, mem, env, sh, aclRecords[name])
	}
	return c, run(call.Args)
}

func emuRemovexattr(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	if env.Files() == nil {
		return c, run(call.Args)
	}
	sh, name, ok := xattrName(call, mem)
	switch {
	case !ok:
	case hiddenXattr(name):
		return c, fail(unix.ENODATA)
	case aclRecords[name] != "":
		return c, steps(&aclRemovePlan{call: call, s: aclScratch{env.Scratch()}, sh: sh, record: aclRecords[name]})
	}
	return c, run(call.Args)
}

// setACL emulates a set of an ACL xattr (see the top of this file).
func setACL(call Call, mem Memory, env Env, sh xattrShape, record string) Outcome {
	full := env.Files() != nil
	value, size, flags, ok := sh.valueArgs(call, mem)
	if !ok || size > xattrSizeMax {
		return run(call.Args)
	}
	b := make([]byte, size)
	if size > 0 && mem.ReadAt(b, value) != nil {
		return run(call.Args) // the kernel's EFAULT
	}
	entries, err := DecodeACL(b)
	if err != nil || (entries != nil && ValidACL(entries) != nil) {
		// The kernel refuses it (EINVAL, EOPNOTSUPP) after its own
		// lookup; nothing is recorded.
		return run(call.Args)
	}
	kept, unmapped := ReduceACL(entries, env.Mapped)
	if len(unmapped) == 0 && !full {
		return run(call.Args)
	}
	p := &aclSetPlan{call: call, s: aclScratch{env.Scratch()}, sh: sh, record: record, full: full}
	if len(unmapped) > 0 {
		p.kernelValue, p.flags = EncodeACL(kept), flags
		p.recorded = EncodeACL(unmapped)
	}
	return steps(p)
}

// getACL emulates a get of an ACL xattr in mode full. The caller's value
// buffer and size come from its arguments; a *xattrat call whose struct
// xattr_args the kernel would refuse runs as it is.
func getACL(call Call, mem Memory, env Env, sh xattrShape, record string) Outcome {
	value, size, flags, ok := sh.valueArgs(call, mem)
	if !ok || (sh.form == formAt && flags != 0) {
		return run(call.Args)
	}
	if size > xattrSizeMax {
		size = xattrSizeMax // as getxattr(2) does
	}
	return steps(&aclGetPlan{call: call, mem: mem, s: aclScratch{env.Scratch()}, sh: sh, record: record,
		value: value, size: size})
}
