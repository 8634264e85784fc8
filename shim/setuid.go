package shim

import "golang.org/x/sys/unix"

// The uid setters follow kernel/sys.c and setuid(2), setreuid(2),
// setresuid(2), setfsuid(2). Every id other than NoID is valid: the model
// stands for a user namespace that maps all ids. Privilege is CAP_SETUID in
// the effective set, never "euid == 0".

// SetUID implements setuid(2): "If the calling process is privileged (more
// precisely: if the process has the CAP_SETUID capability in its user
// namespace), the real UID and saved set-user-ID are also set." Otherwise
// the effective id may only be set to the real or saved id: "EPERM The user
// is not privileged ... and uid does not match the real UID or saved
// set-user-ID of the calling process."
func (c Creds) SetUID(uid uint32) (Creds, error) {
	if uid == NoID {
		return c, unix.EINVAL
	}
	n := c
	if c.Caps.Effective.Has(CapSetuid) {
		n.UID, n.SUID = uid, uid
	} else if uid != c.UID && uid != c.SUID {
		return c, unix.EPERM
	}
	n.EUID, n.FSUID = uid, uid
	return n.fixSetuid(c), nil
}

// SetREUID implements setreuid(2): "Unprivileged processes may only set the
// effective user ID to the real user ID, the effective user ID, or the saved
// set-user-ID. Unprivileged users may only set the real user ID to the real
// user ID or the effective user ID. If the real user ID is set (i.e., ruid is
// not -1) or the effective user ID is set to a value not equal to the
// previous real user ID, the saved set-user-ID will be set to the new
// effective user ID."
func (c Creds) SetREUID(ruid, euid uint32) (Creds, error) {
	priv := c.Caps.Effective.Has(CapSetuid)
	n := c
	if ruid != NoID {
		n.UID = ruid
		if ruid != c.UID && ruid != c.EUID && !priv {
			return c, unix.EPERM
		}
	}
	if euid != NoID {
		n.EUID = euid
		if euid != c.UID && euid != c.EUID && euid != c.SUID && !priv {
			return c, unix.EPERM
		}
	}
	if ruid != NoID || (euid != NoID && euid != c.UID) {
		n.SUID = n.EUID
	}
	n.FSUID = n.EUID
	return n.fixSetuid(c), nil
}

// SetRESUID implements setresuid(2): "An unprivileged process may change its
// real UID, effective UID, and saved set-user-ID, each to one of: the current
// real UID, the current effective UID, or the current saved set-user-ID. A
// privileged process ... may set its real UID, effective UID, and saved
// set-user-ID to arbitrary values. If one of the arguments equals -1, the
// corresponding value is not changed. Regardless of what changes are made to
// the real UID, effective UID, and saved set-user-ID, the filesystem UID is
// always set to the same value as the (possibly new) effective UID."
// A call that changes nothing returns before the capability fix-ups, as
// kernel/sys.c does.
func (c Creds) SetRESUID(ruid, euid, suid uint32) (Creds, error) {
	if (ruid == NoID || ruid == c.UID) &&
		(euid == NoID || (euid == c.EUID && euid == c.FSUID)) &&
		(suid == NoID || suid == c.SUID) {
		return c, nil
	}
	isNew := func(id uint32) bool { return id != NoID && id != c.UID && id != c.EUID && id != c.SUID }
	if (isNew(ruid) || isNew(euid) || isNew(suid)) && !c.Caps.Effective.Has(CapSetuid) {
		return c, unix.EPERM
	}
	n := c
	if ruid != NoID {
		n.UID = ruid
	}
	if euid != NoID {
		n.EUID = euid
	}
	if suid != NoID {
		n.SUID = suid
	}
	n.FSUID = n.EUID
	return n.fixSetuid(c), nil
}

// SetFSUID implements setfsuid(2): "On success, ... the previous value of the
// filesystem user ID is returned. On error, the previous value ... is
// returned." The new id must be the real, effective, saved or current
// filesystem uid unless the caller has CAP_SETUID.
func (c Creds) SetFSUID(fsuid uint32) (Creds, uint32) {
	old := c.FSUID
	if fsuid == NoID {
		return c, old
	}
	if fsuid != c.UID && fsuid != c.EUID && fsuid != c.SUID && fsuid != c.FSUID &&
		!c.Caps.Effective.Has(CapSetuid) {
		return c, old
	}
	if fsuid == c.FSUID {
		return c, old
	}
	n := c
	n.FSUID = fsuid
	return n.fixSetfsuid(c), old
}

// fixSetuid applies capabilities(7) "Effect of user ID changes on
// capabilities" after setuid, setreuid and setresuid (the kernel's
// cap_emulate_setxuid):
//  1. "If one or more of the real, effective, or saved set user IDs was
//     previously 0, and as a result of the UID changes all of these IDs have
//     a nonzero value, then all capabilities are cleared from the permitted,
//     effective, and ambient capability sets" — permitted and effective stay
//     when SECBIT_KEEP_CAPS is set; ambient is cleared regardless.
//  2. "If the effective user ID is changed from 0 to nonzero, then all
//     capabilities are cleared from the effective set."
//  3. "If the effective user ID is changed from nonzero to 0, then the
//     permitted set is copied to the effective set."
//
// SECBIT_NO_SETUID_FIXUP turns all of this off.
func (n Creds) fixSetuid(old Creds) Creds {
	if n.secure(SecureNoSetuidFixup) {
		return n
	}
	if (old.UID == 0 || old.EUID == 0 || old.SUID == 0) && n.UID != 0 && n.EUID != 0 && n.SUID != 0 {
		if !n.secure(SecureKeepCaps) {
			n.Caps.Permitted, n.Caps.Effective = 0, 0
		}
		n.Caps.Ambient = 0
	}
	if old.EUID == 0 && n.EUID != 0 {
		n.Caps.Effective = 0
	}
	if old.EUID != 0 && n.EUID == 0 {
		n.Caps.Effective = n.Caps.Permitted
	}
	return n
}

// fixSetfsuid applies capabilities(7): "If the filesystem user ID is changed
// from 0 to nonzero, then the following capabilities are cleared from the
// effective set: [FSCaps]. If the filesystem UID is changed from nonzero to
// 0, then any of these capabilities that are enabled in the permitted set are
// enabled in the effective set."
func (n Creds) fixSetfsuid(old Creds) Creds {
	if n.secure(SecureNoSetuidFixup) {
		return n
	}
	if old.FSUID == 0 && n.FSUID != 0 {
		n.Caps.Effective &^= FSCaps
	}
	if old.FSUID != 0 && n.FSUID == 0 {
		n.Caps.Effective |= n.Caps.Permitted & FSCaps
	}
	return n
}
