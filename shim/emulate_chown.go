package shim

import "golang.org/x/sys/unix"

// The chown family is emulated by letting the kernel run the call with both
// ids set to -1: it then does the path lookup, the permission to reach the
// file, the read-only checks and clears set-user-ID bits exactly as the real
// chown would, but changes no owner (which the single mapped id could not
// hold anyway). The ownership rule itself is decided here, on the emulated
// credentials and the object's owner, which the thread stats first.

// chownRequest is a chown-family call reduced to fchownat's arguments.
type chownRequest struct {
	dirfd    int
	pathAddr uint64
	emptyOK  bool // fchown: no path, the fd itself
	flags    int
	uid, gid uint32
	idArg    int // index of the uid argument; gid follows it
}

const atFDCWD = unix.AT_FDCWD

func emuChown(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	return c, chown(c, call, mem, env, chownRequest{dirfd: atFDCWD, pathAddr: call.Args[0],
		uid: id(call.Args[1]), gid: id(call.Args[2]), idArg: 1})
}

func emuLchown(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	return c, chown(c, call, mem, env, chownRequest{dirfd: atFDCWD, pathAddr: call.Args[0],
		flags: unix.AT_SYMLINK_NOFOLLOW, uid: id(call.Args[1]), gid: id(call.Args[2]), idArg: 1})
}

func emuFchown(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	return c, chown(c, call, mem, env, chownRequest{dirfd: int(int32(call.Args[0])), emptyOK: true,
		flags: unix.AT_EMPTY_PATH, uid: id(call.Args[1]), gid: id(call.Args[2]), idArg: 1})
}

func emuFchownat(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	return c, chown(c, call, mem, env, chownRequest{dirfd: int(int32(call.Args[0])), pathAddr: call.Args[1],
		flags: int(int32(call.Args[4])), uid: id(call.Args[2]), gid: id(call.Args[3]), idArg: 2})
}

func chown(c Creds, call Call, mem Memory, env Env, r chownRequest) Outcome {
	noop := call.Args
	noop[r.idArg], noop[r.idArg+1] = uint64(NoID), uint64(NoID)
	if env.Files() != nil {
		pathArg := uint64(0)
		if !r.emptyOK {
			pathArg = r.pathAddr
		}
		return fullChown(c, mem, env, r, pathArg, call.Nr, noop)
	}
	if r.flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return fail(unix.EINVAL)
	}
	if r.uid == NoID && r.gid == NoID {
		return run(noop)
	}
	if kernelDecides(c, env, r.uid, r.gid) {
		return run(call.Args)
	}
	// The rule depends on the object's owner, even with CAP_CHOWN, which
	// covers only owners the namespace maps: the thread stats the object
	// itself (its own lookup, root and permissions), then makes the no-op
	// chown or gets EPERM (EROFS on a read-only mount).
	s := scratch{env.Scratch()}
	path := r.pathAddr
	if r.emptyOK {
		path = s.empty()
	}
	return steps(&credsChownPlan{creds: c, mem: mem, env: env, s: s, nr: call.Nr, noop: noop,
		dfd: uint64(int64(r.dirfd)), path: path, flags: uint64(r.flags), uid: r.uid, gid: r.gid})
}

// kernelDecides reports whether the kernel can run a chown as it is and
// give the emulated answer: emulated root (CAP_CHOWN, fsuid 0, in group 0)
// giving an object to 0:0, the namespace's root (either id may be -1).
// In a single-id namespace the root is the owner of every object it maps,
// so the real call changes no owner there (set-id bits are cleared and
// ctime updated, as by a chown with both ids -1), and the kernel refuses
// it (EPERM) on an object whose owner the namespace does not map, which
// CAP_CHOWN does not cover: the emulated rules' answers, with one stop and
// no stat. (An object owned by root and an unmapped group gets the root
// group for real, as the emulated root is allowed to give it.)
func kernelDecides(c Creds, env Env, uid, gid uint32) bool {
	return (uid == 0 || uid == NoID) && (gid == 0 || gid == NoID) &&
		c.Caps.Effective.Has(CapChown) && c.FSUID == 0 && (gid == NoID || c.inGroup(0)) &&
		env.Mapped(0, false) && env.Mapped(0, true)
}

// credsChownPlan is a chown in mode creds.
type credsChownPlan struct {
	creds     Creds
	mem       Memory
	env       Env
	s         scratch
	nr        uintptr
	noop      [6]uint64
	dfd, path uint64
	flags     uint64
	uid, gid  uint32
	state     int
}

// States of a credsChownPlan.
const (
	credsChownStart = iota
	credsChownStat  // the stat has run
	credsChownMount // refused: the statx for the mount has run
)

func (p *credsChownPlan) Next(prev int64) (*Step, int64) {
	switch p.state {
	case credsChownStart:
		p.state = credsChownStat
		return p.s.statStep(p.dfd, p.path, p.flags), 0
	case credsChownMount:
		return nil, refusal(p.mem, p.env, p.s, prev)
	}
	if prev != 0 {
		return nil, prev // the lookup failed: ENOENT, ENOTDIR, EACCES, EFAULT, ...
	}
	info, err := readStat(p.mem, p.s.stat())
	if err != nil {
		return nil, -int64(unix.EFAULT)
	}
	if err := p.creds.chownAllowedOn(ownerOf(p.env, info.owner, info.owner), p.uid, p.gid); err != nil {
		p.state = credsChownMount
		return p.s.mountStep(p.dfd, p.path, p.flags), 0
	}
	// Both ids are -1: the filter lets the call through, so no seccomp stop
	// is left for the tracer to pass (one left pending would let the
	// thread's next chown-family call run unemulated).
	return &Step{Nr: p.nr, Args: p.noop, Direct: true, Untraced: true}, 0
}

// KernelAnswersChown reports whether the kernel's own answer to chown-family
// call call is the emulated one for a thread whose emulated credentials are
// its real ones (a process remainroot does not attach): both ids -1, or
// each -1 or mapped by the thread's namespace (mapped). The model's rule
// for ids the namespace maps is the kernel's (capable_wrt_inode_uidgid,
// the owner's mapping, EROFS: the differential probe's chown cases), so
// only a chown to an unmapped id needs the model; the kernel would refuse
// that one with EINVAL.
func KernelAnswersChown(s Syscall, call Call, mapped func(id uint32, group bool) bool) bool {
	i, ok := s.ChownIDs()
	if !ok {
		return false
	}
	uid, gid := id(call.Args[i]), id(call.Args[i+1])
	return (uid == NoID || mapped(uid, false)) && (gid == NoID || mapped(gid, true))
}
