package shim

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// A chown the ownership rules refuse is EPERM, except on a read-only mount:
// the kernel checks the mount (mnt_want_write) after the path lookup and
// before the ownership rules, so there it is EROFS. A plan learns which by
// one more call of the thread's own, a statx of the object (with the
// call's directory, path and flags) asking only for its mount id, which the
// tracer looks up in the thread's mount table (Env.ReadOnlyMount). Nothing
// is written to the object: a chown with both ids -1 would tell as well,
// but it clears set-id bits and changes ctime. The extra call is made only
// when the answer is a refusal; an allowed chown ends with the kernel's own
// no-op chown, which says EROFS itself.

// statxMntID is the offset of stx_mnt_id in struct statx (all
// architectures).
const statxMntID = 144

// mountStep is the thread's statx of what (dfd, path, flags) names, for
// its mount id.
func (s scratch) mountStep(dfd, path, flags uint64) *Step {
	flags &= unix.AT_SYMLINK_NOFOLLOW | unix.AT_EMPTY_PATH
	return &Step{Nr: unix.SYS_STATX,
		Args: [6]uint64{dfd, path, flags | unix.AT_STATX_DONT_SYNC, unix.STATX_MNT_ID, s.stat()},
		In:   s.header(0), InAddr: s.base}
}

// refusal is the emulated chown's result once the rules refused it and
// mountStep returned res: EROFS for an object on a read-only mount, else
// EPERM.
func refusal(mem Memory, env Env, s scratch, res int64) int64 {
	if res != 0 {
		return -int64(unix.EPERM)
	}
	b := make([]byte, statxMntID+8)
	if err := mem.ReadAt(b, s.stat()); err != nil {
		return -int64(unix.EPERM)
	}
	if binary.LittleEndian.Uint32(b)&unix.STATX_MNT_ID != 0 &&
		env.ReadOnlyMount(binary.LittleEndian.Uint64(b[statxMntID:])) {
		return -int64(unix.EROFS)
	}
	return -int64(unix.EPERM)
}

// objectOwner is an object's owner as the thread's namespace shows it, and
// whether that namespace maps the object's real uid and gid: an id it does
// not map shows as the overflow id (65534) and belongs to nobody there.
type objectOwner struct {
	FileOwner
	uidMapped, gidMapped bool
}

// ownerOf is the owner the rules apply to: recorded (mode full's xattr),
// or else the real one, with the real one's mapping.
func ownerOf(env Env, real, recorded FileOwner) objectOwner {
	return objectOwner{FileOwner: recorded,
		uidMapped: env.Mapped(real.UID, false), gidMapped: env.Mapped(real.GID, true)}
}

// chownAllowedOn is ChownAllowed with the kernel's rule for owners the
// namespace does not map: CAP_CHOWN counts only for an inode whose uid and
// gid are both mapped (capable_wrt_inode_uidgid), and an unmapped owner is
// never the caller (chown_ok, chgrp_ok in fs/attr.c).
func (c Creds) chownAllowedOn(o objectOwner, uid, gid uint32) error {
	if c.Caps.Effective.Has(CapChown) && o.uidMapped && o.gidMapped {
		return nil
	}
	owner := o.uidMapped && c.FSUID == o.UID
	if uid != NoID && (!owner || uid != o.UID) {
		return unix.EPERM
	}
	if gid != NoID && (!owner || (!c.inGroup(gid) && (!o.gidMapped || gid != o.GID))) {
		return unix.EPERM
	}
	return nil
}

// kernelStatStep is statStep carrying StatMarker, which the filter lets
// through: the kernel answers, never the emulation (mode full notifies
// a stat of a descriptor and would report the recorded owner), so the plan
// sees the object's real owner and whether the namespace maps it.
func (s scratch) kernelStatStep(dfd, path, flags uint64) *Step {
	step := s.statStep(dfd, path, flags)
	step.Args[3] |= StatMarker
	return step
}
