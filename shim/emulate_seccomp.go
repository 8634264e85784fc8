package shim

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// Loading a seccomp filter needs privilege the emulated credentials may have
// dropped: seccomp(2), "EACCES: The caller did not have the CAP_SYS_ADMIN
// capability in its user namespace, or had not set no_new_privs before
// using SECCOMP_SET_MODE_FILTER". The real thread keeps CAP_SYS_ADMIN (its
// drops are emulated), so the kernel alone would load a filter that the
// emulated thread may not. Errors the kernel finds first (flags, the
// program's address and length) are left to it or given in its order.

// capSysAdmin is CAP_SYS_ADMIN.
const capSysAdmin = 21

// seccompFilterFlags is SECCOMP_FILTER_FLAG_MASK: the flags the kernel
// knows.
const seccompFilterFlags = unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_LOG |
	unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER |
	unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV

// bpfMaxInsns is BPF_MAXINSNS: the longest classic BPF program.
const bpfMaxInsns = 4096

// emuSeccomp implements seccomp(2)'s SECCOMP_SET_MODE_FILTER; the other
// operations need no privilege and run as they are.
func emuSeccomp(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	if uint32(call.Args[0]) != unix.SECCOMP_SET_MODE_FILTER {
		return c, run(call.Args)
	}
	return c, setFilter(c, call.Args, uint32(call.Args[1]), call.Args[2], mem, env)
}

// prctlSetSeccomp implements prctl(PR_SET_SECCOMP, mode, filter), which for
// SECCOMP_MODE_FILTER is seccomp(SECCOMP_SET_MODE_FILTER, 0, filter).
func prctlSetSeccomp(c Creds, call Call, mem Memory, env Env) Outcome {
	if call.Args[1] != unix.SECCOMP_MODE_FILTER {
		return run(call.Args)
	}
	return setFilter(c, call.Args, 0, call.Args[2], mem, env)
}

// setFilter checks a filter's installation as seccomp_set_mode_filter
// does up to the privilege check: invalid flags (EINVAL, the kernel's own
// answer), the struct sock_fprog (EFAULT), its length (EINVAL), then
// CAP_SYS_ADMIN or no_new_privs (EACCES). A call that may load its filter
// runs as it is.
func setFilter(c Creds, args [6]uint64, flags uint32, prog uint64, mem Memory, env Env) Outcome {
	if c.Caps.Effective.Has(capSysAdmin) || env.NoNewPrivs() {
		return run(args)
	}
	listener := flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0
	if flags&^seccompFilterFlags != 0 ||
		(flags&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 && listener && flags&unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH == 0) ||
		(flags&unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV != 0 && !listener) {
		return run(args)
	}
	fprog := make([]byte, 16) // struct sock_fprog {u16 len; struct sock_filter *filter}
	if err := mem.ReadAt(fprog, prog); err != nil {
		return fail(unix.EFAULT)
	}
	if n := binary.LittleEndian.Uint16(fprog); n == 0 || n > bpfMaxInsns {
		return fail(unix.EINVAL)
	}
	return fail(unix.EACCES)
}
