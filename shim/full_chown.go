package shim

import "golang.org/x/sys/unix"

// chownPlan records ownership in mode full. The thread reads the object's
// owner xattr and stats it (with the call's own directory, path and flags),
// the model applies chown(2)'s rules to the recorded owner, then the thread
// writes the merged owner (-1 keeps an id) into the xattr; for 0:0 an
// existing record becomes an explicit 0:0 and none is made (setOwnerStep).
// Objects that cannot carry user xattrs get the owner in the table of
// special files. Every lookup is the thread's own system call: nothing is
// resolved in the tracer.
type chownPlan struct {
	nr       uintptr   // the call,
	noop     [6]uint64 // and its arguments with both ids -1
	idArg    int       // the index of its uid argument
	creds    Creds
	mem      Memory
	env      Env
	files    Files
	s        scratch
	dfd      uint64
	path     uint64
	atFlags  uint64
	uid, gid uint32

	state int
	xattr FileOwner
	found bool
	info  statInfo
	// setErr is the error of a privileged chown's xattr write that sent
	// the plan to look at the object (chownDirectStat).
	setErr int64
}

func fullChown(c Creds, mem Memory, env Env, r chownRequest, pathArg uint64, nr uintptr, noop [6]uint64) Outcome {
	if r.flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return fail(unix.EINVAL)
	}
	files := env.Files()
	s := scratch{env.Scratch()}
	path := pathArg
	if r.emptyOK {
		path = s.empty()
	}
	dfd := uint64(int64(r.dirfd))
	return steps(&chownPlan{nr: nr, noop: noop, idArg: r.idArg, creds: c, mem: mem, env: env, files: files, s: s, dfd: dfd, path: path,
		atFlags: uint64(r.flags), uid: r.uid, gid: r.gid})
}

// States of a chownPlan.
const (
	chownStart = iota
	chownGotXattr
	chownGotStat
	chownSetDone
	chownDirectSet // privileged, both ids given: set first, look later
	chownDirectStat
	chownMount // refused: the statx for the mount has run (chown_refuse.go)
)

func (p *chownPlan) Next(prev int64) (*Step, int64) {
	switch p.state {
	case chownStart:
		if p.creds.Caps.Effective.Has(CapChown) && p.uid != NoID && p.gid != NoID {
			// Nothing to merge and no rule to check: write the owner
			// straight away; only if the object cannot hold the xattr is
			// it looked at.
			p.state = chownDirectSet
			step, err := p.s.setOwnerStep(p.mem, p.files, p.dfd, p.path, p.atFlags, FileOwner{p.uid, p.gid})
			if err != nil {
				return nil, errnoValue(err)
			}
			return step, 0
		}
		p.state = 1
		step, err := p.s.getOwnerStep(p.mem, p.files, p.dfd, p.path, p.atFlags)
		if err != nil {
			return nil, errnoValue(err)
		}
		return step, 0
	case 1:
		p.xattr, p.found = ownerFromXattr(p.mem, p.files, p.s, prev)
		p.state = 2
		return p.s.kernelStatStep(p.dfd, p.path, p.atFlags), 0
	case 2:
		if prev != 0 {
			return nil, prev // the lookup failed: ENOENT, ENOTDIR, EACCES, ...
		}
		info, err := readStat(p.mem, p.s.stat())
		if err != nil {
			return nil, -int64(unix.EFAULT)
		}
		p.info = info
		current := p.xattrOrReal()
		if !holdsXattr(info.mode) {
			current = info.owner
			if o, ok := p.files.Special(info.dev, info.ino); ok {
				current = o
			} else if o, ok := imageOwner(p.files, info.dev, info.ino); ok {
				current = o
			}
		}
		if err := p.creds.chownAllowedOn(ownerOf(p.env, info.owner, current), p.uid, p.gid); err != nil {
			p.state = chownMount
			return p.s.mountStep(p.dfd, p.path, p.atFlags), 0
		}
		next := current.Merge(p.uid, p.gid)
		if !holdsXattr(info.mode) {
			p.files.SetSpecial(info.dev, info.ino, next)
			return p.finish()
		}
		p.state = 3
		step, err := p.s.setOwnerStep(p.mem, p.files, p.dfd, p.path, p.atFlags, next)
		if err != nil {
			return nil, errnoValue(err)
		}
		return step, 0
	}
	switch p.state {
	case chownDirectSet:
		switch -prev {
		case 0, int64(unix.ENODATA): // to 0:0, no record to replace
			return p.finish()
		case int64(unix.EPERM), int64(unix.ENOTSUP), int64(unix.EACCES):
			// A symlink, FIFO or socket (no user xattrs), or a filesystem
			// without them: find the object for the table. EACCES (and
			// EPERM) may also mean an owner the namespace does not map,
			// which CAP_CHOWN does not cover.
			p.state, p.setErr = chownDirectStat, prev
			return p.s.kernelStatStep(p.dfd, p.path, p.atFlags), 0
		}
		return nil, prev
	case chownMount:
		return nil, refusal(p.mem, p.env, p.s, prev)
	case chownDirectStat:
		if prev != 0 {
			return nil, prev
		}
		info, err := readStat(p.mem, p.s.stat())
		if err != nil {
			return nil, -int64(unix.EFAULT)
		}
		if err := p.creds.chownAllowedOn(ownerOf(p.env, info.owner, info.owner), p.uid, p.gid); err != nil {
			p.state = chownMount
			return p.s.mountStep(p.dfd, p.path, p.atFlags), 0
		}
		if p.setErr == -int64(unix.EACCES) {
			return nil, p.setErr // no write permission: not for lack of xattrs
		}
		p.files.SetSpecial(info.dev, info.ino, FileOwner{p.uid, p.gid})
		return p.finish()
	}
	switch -prev {
	case 0, int64(unix.ENODATA): // to 0:0, no record to replace
		return p.finish()
	case int64(unix.ENOTSUP):
		// A filesystem without user xattrs: keep the owner for the
		// container's lifetime, as for special files.
		p.files.SetSpecial(p.info.dev, p.info.ino, p.xattrOrReal().Merge(p.uid, p.gid))
		return p.finish()
	}
	return nil, prev
}

// Fuse: a privileged chown that names both ids writes the owner xattr
// first; when that works (or, to 0:0, there was no record to replace) the
// plan ends with finish. Other results (a symlink refusing user xattrs, a
// real error) come back to Next.
func (p *chownPlan) Fuse() (*Step, FuseRule, bool) {
	if p.state != chownDirectSet {
		return nil, FuseRule{}, false
	}
	second, _ := p.finish()
	rule := FuseRule{OnlySuccess: true, Errno: unix.ENODATA}
	if p.uid == 0 && p.gid == 0 && p.env.Mapped(0, false) && p.env.Mapped(0, true) {
		// The call itself ends the plan: to 0:0, the namespace's root,
		// which in a single-id namespace is the owner of every object it
		// maps. The kernel then makes it a no-op on such an object (set-id
		// bits cleared, ctime updated, as with both ids -1) and refuses
		// it, EPERM, on one whose owner the namespace does not map, which
		// CAP_CHOWN does not cover.
		second = &Step{Nr: p.nr, Args: p.noop, Direct: true}
		second.Args[p.idArg], second.Args[p.idArg+1] = 0, 0
		if !p.files.HasSpecial() && p.files.ImageOwners() == nil {
			// An object without user xattrs (EPERM: a symlink, FIFO or
			// socket; ENOTSUP: a filesystem without them) chowned to 0:0,
			// with no owner in the table and none from an image: nothing
			// to record, as Next would find after its stat (SetSpecial of
			// 0:0 records nothing then).
			rule.Also = []unix.Errno{unix.EPERM, unix.ENOTSUP}
		}
	}
	return second, rule, true
}

// Fused is not reached: the chown rule has no ModeAddr.
func (p *chownPlan) Fused(res int64) int64 { return res }

// finish ends a recorded chown with the call itself, both ids -1, returning
// straight to the thread: the kernel clears the set-user-ID and
// set-group-ID bits and updates ctime as a real chown does (chown(2): "When
// the owner or group of an executable file is changed by an unprivileged
// user, the S_ISUID and S_ISGID mode bits are cleared ... since Linux
// 2.2.13, root is treated like other users"). With both ids -1 the filter
// lets it through: no further stop.
func (p *chownPlan) finish() (*Step, int64) {
	return &Step{Nr: p.nr, Args: p.noop, Direct: true, Untraced: true}, 0
}

// xattrOrReal is the owner of an object that can carry the owner xattr:
// its record, else the owner its image gave it, else the kernel's.
func (p *chownPlan) xattrOrReal() FileOwner {
	if p.found {
		return p.xattr
	}
	if o, ok := imageOwner(p.files, p.info.dev, p.info.ino); ok {
		return o
	}
	return p.info.owner
}
