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
