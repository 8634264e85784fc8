package shim

// ExecFile describes the program an execve(2) loaded, as far as the
// credential transformation needs it.
type ExecFile struct {
	// SetUID and SetGID are the file's set-user-ID and set-group-ID bits,
	// already cleared by the caller when the kernel would ignore them
	// (nosuid mount, no_new_privs, owner not mapped).
	SetUID, SetGID bool
	// UID and GID own the file, as the emulated namespace sees them.
	UID, GID uint32
}

// Exec returns the credentials after an execve(2) of f, following execve(2)
// ("If the set-user-ID bit is set on the program file ... the effective user
// ID of the calling process is changed to that of the owner of the program
// file"; "The effective user ID of the process is copied to the saved
// set-user-ID") and capabilities(7) "Transformation of capabilities during
// execve()" for a file without file capabilities:
//
//	P'(ambient)   = (file is privileged) ? 0 : P(ambient)
//	P'(permitted) = P'(ambient), or P(inheritable) | P(bounding) when the real
//	                or effective uid is 0 ("Capabilities and execution of
//	                programs by root")
//	P'(effective) = P'(permitted) when the new effective uid is 0, else
//	                P'(ambient)
//
// "privileged" here means a set-user-ID or set-group-ID change: ambient is
// cleared when the new effective ids differ from the real ones. SECBIT_NOROOT
// turns off the root rule. SECBIT_KEEP_CAPS is cleared ("The "keep
// capabilities" value will be reset to 0 on subsequent calls to execve").
func (c Creds) Exec(f ExecFile) Creds {
	n := c
	if f.SetUID {
		n.EUID = f.UID
	}
	if f.SetGID {
		n.EGID = f.GID
	}
	n.SUID, n.FSUID = n.EUID, n.EUID
	n.SGID, n.FSGID = n.EGID, n.EGID

	if n.EUID != n.UID || n.EGID != n.GID {
		n.Caps.Ambient = 0
	}
	var permitted CapSet
	effective := false
	if !c.secure(SecureNoroot) {
		if n.EUID == 0 || n.UID == 0 {
			permitted = c.Caps.Bounding | c.Caps.Inheritable
		}
		effective = n.EUID == 0
	}
	n.Caps.Permitted = permitted | n.Caps.Ambient
	if effective {
		n.Caps.Effective = n.Caps.Permitted
	} else {
		n.Caps.Effective = n.Caps.Ambient
	}
	n.Securebits &^= 1 << SecureKeepCaps
	return n
}

// SecureExec reports whether an execve that turned old into new is a
// "privilege-elevated" one, for which the kernel sets AT_SECURE in the
// auxiliary vector (security/commoncap.c): the effective uid changed, the
// new effective gid is not one of the caller's groups (in_group_p, which
// looks at the fsgid and the supplementary groups), the new effective ids
// differ from the old real ones, or a non-root real user gains capabilities
// (the root rule's effective bit, or permitted beyond ambient).
func SecureExec(old, new Creds) bool {
	if new.EUID != old.EUID || !old.inGroup(new.EGID) || new.EUID != old.UID || new.EGID != old.GID {
		return true
	}
	effective := !old.secure(SecureNoroot) && new.EUID == 0
	return new.UID != 0 && (effective || !new.Caps.Permitted.SubsetOf(new.Caps.Ambient))
}
