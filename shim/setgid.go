package shim

import (
	"slices"

	"golang.org/x/sys/unix"
)

// The gid setters mirror the uid setters with CAP_SETGID as the privilege;
// group changes never touch capabilities (setgid(2), setregid(2),
// setresgid(2), setfsgid(2), setgroups(2)).

// SetGID implements setgid(2): privileged callers set the real, effective
// and saved gid; others may set the effective gid to the real or saved gid
// only, else EPERM.
func (c Creds) SetGID(gid uint32) (Creds, error) {
	if gid == NoID {
		return c, unix.EINVAL
	}
	n := c
	if c.Caps.Effective.Has(CapSetgid) {
		n.GID, n.SGID = gid, gid
	} else if gid != c.GID && gid != c.SGID {
		return c, unix.EPERM
	}
	n.EGID, n.FSGID = gid, gid
	return n, nil
}

// SetREGID implements setregid(2), with the saved-gid rule of setreuid(2):
// "If the real group ID is set or the effective group ID is set to a value
// not equal to the previous real group ID, the saved set-group-ID will be
// set to the new effective group ID."
func (c Creds) SetREGID(rgid, egid uint32) (Creds, error) {
	priv := c.Caps.Effective.Has(CapSetgid)
	n := c
	if rgid != NoID {
		n.GID = rgid
		if rgid != c.GID && rgid != c.EGID && !priv {
			return c, unix.EPERM
		}
	}
	if egid != NoID {
		n.EGID = egid
		if egid != c.GID && egid != c.EGID && egid != c.SGID && !priv {
			return c, unix.EPERM
		}
	}
	if rgid != NoID || (egid != NoID && egid != c.GID) {
		n.SGID = n.EGID
	}
	n.FSGID = n.EGID
	return n, nil
}

// SetRESGID implements setresgid(2): unprivileged callers may set each id to
// the current real, effective or saved gid; the filesystem gid follows the
// effective gid. A call that changes nothing succeeds at once.
func (c Creds) SetRESGID(rgid, egid, sgid uint32) (Creds, error) {
	if (rgid == NoID || rgid == c.GID) &&
		(egid == NoID || (egid == c.EGID && egid == c.FSGID)) &&
		(sgid == NoID || sgid == c.SGID) {
		return c, nil
	}
	isNew := func(id uint32) bool { return id != NoID && id != c.GID && id != c.EGID && id != c.SGID }
	if (isNew(rgid) || isNew(egid) || isNew(sgid)) && !c.Caps.Effective.Has(CapSetgid) {
		return c, unix.EPERM
	}
	n := c
	if rgid != NoID {
		n.GID = rgid
	}
	if egid != NoID {
		n.EGID = egid
	}
	if sgid != NoID {
		n.SGID = sgid
	}
	n.FSGID = n.EGID
	return n, nil
}

// SetFSGID implements setfsgid(2): it returns the previous filesystem gid
// whether or not the change was allowed.
func (c Creds) SetFSGID(fsgid uint32) (Creds, uint32) {
	old := c.FSGID
	if fsgid == NoID {
		return c, old
	}
	if fsgid != c.GID && fsgid != c.EGID && fsgid != c.SGID && fsgid != c.FSGID &&
		!c.Caps.Effective.Has(CapSetgid) {
		return c, old
	}
	n := c
	n.FSGID = fsgid
	return n, old
}

// SetGroups implements setgroups(2): "EPERM The calling process has
// insufficient privilege (the caller does not have the CAP_SETGID capability
// in the user namespace in which it resides)"; "EINVAL size is greater than
// NGROUPS_MAX". The kernel checks privilege first, then the size, then each
// id; it keeps the list sorted. setgroups(0, NULL) clears the list.
func (c Creds) SetGroups(groups []uint32) (Creds, error) {
	if !c.Caps.Effective.Has(CapSetgid) {
		return c, unix.EPERM
	}
	if len(groups) > NGroupsMax {
		return c, unix.EINVAL
	}
	for _, g := range groups {
		if g == NoID {
			return c, unix.EINVAL
		}
	}
	n := c
	n.Groups = slices.Clone(groups)
	slices.Sort(n.Groups)
	return n, nil
}
