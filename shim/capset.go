package shim

import "golang.org/x/sys/unix"

// SetCaps implements capset(2) on the calling thread, with the rules of
// capabilities(7) "Programmatically adjusting capability sets":
//   - "If the caller does not have the CAP_SETPCAP capability, the new
//     inheritable set must be a subset of the combination of the existing
//     inheritable and permitted sets."
//   - "The new inheritable set must be a subset of the combination of the
//     existing inheritable set and the capability bounding set."
//   - "The new permitted set must be a subset of the existing permitted set."
//   - "The new effective set must be a subset of the new permitted set."
//
// Ambient capabilities not in both new permitted and inheritable sets are
// dropped ("The ambient capability set obeys the invariant that no
// capability can ever be ambient if it is not both permitted and
// inheritable").
func (c Creds) SetCaps(effective, permitted, inheritable CapSet) (Creds, error) {
	if !c.Caps.Effective.Has(CapSetpcap) && !inheritable.SubsetOf(c.Caps.Inheritable|c.Caps.Permitted) {
		return c, unix.EPERM
	}
	if !inheritable.SubsetOf(c.Caps.Inheritable | c.Caps.Bounding) {
		return c, unix.EPERM
	}
	if !permitted.SubsetOf(c.Caps.Permitted) || !effective.SubsetOf(permitted) {
		return c, unix.EPERM
	}
	n := c
	n.Caps.Effective, n.Caps.Permitted, n.Caps.Inheritable = effective, permitted, inheritable
	n.Caps.Ambient &= permitted & inheritable
	return n, nil
}

// SetKeepCaps implements prctl(PR_SET_KEEPCAPS): "arg2 ... must be either 0
// (clear the flag) or 1 (set the flag)", else EINVAL; "EPERM option is
// PR_SET_KEEPCAPS, and the caller's SECBIT_KEEP_CAPS_LOCKED flag is set".
func (c Creds) SetKeepCaps(arg uint64) (Creds, error) {
	if arg > 1 {
		return c, unix.EINVAL
	}
	if c.secure(SecureKeepCaps + 1) {
		return c, unix.EPERM
	}
	n := c
	if arg == 1 {
		n.Securebits |= 1 << SecureKeepCaps
	} else {
		n.Securebits &^= 1 << SecureKeepCaps
	}
	return n, nil
}

// KeepCaps is prctl(PR_GET_KEEPCAPS).
func (c Creds) KeepCaps() int64 {
	if c.secure(SecureKeepCaps) {
		return 1
	}
	return 0
}

// SetSecurebits implements prctl(PR_SET_SECUREBITS) (capabilities(7), "The
// securebits flags"): the caller needs CAP_SETPCAP, a locked flag may not
// change, a lock may not be cleared, and unknown bits are refused, all with
// EPERM as security/commoncap.c returns.
func (c Creds) SetSecurebits(arg uint64) (Creds, error) {
	old := uint64(c.Securebits)
	if ((old&secureAllLocks)>>1)&(old^arg) != 0 ||
		old&secureAllLocks&^arg != 0 ||
		arg&^(secureAllLocks|secureAllBits) != 0 ||
		!c.Caps.Effective.Has(CapSetpcap) {
		return c, unix.EPERM
	}
	n := c
	n.Securebits = uint32(arg)
	return n, nil
}

// DropBounding implements prctl(PR_CAPBSET_DROP): "EPERM The caller does
// not have the CAP_SETPCAP capability"; "EINVAL arg2 does not specify a
// valid capability" (checked in that order, as security/commoncap.c does).
func (c Creds) DropBounding(capNum uint64) (Creds, error) {
	if !c.Caps.Effective.Has(CapSetpcap) {
		return c, unix.EPERM
	}
	if !capValid(capNum) {
		return c, unix.EINVAL
	}
	n := c
	n.Caps.Bounding &^= 1 << capNum
	return n, nil
}

// SetAmbient raises or lowers one ambient capability (capabilities(7),
// "Ambient capability set"): "A capability can't be raised unless it is
// already both permitted and inheritable", nor when SECBIT_NO_CAP_AMBIENT_RAISE
// is set.
func (c Creds) SetAmbient(capNum uint, raise bool) (Creds, error) {
	n := c
	if !raise {
		n.Caps.Ambient &^= 1 << capNum
		return n, nil
	}
	if !c.Caps.Permitted.Has(capNum) || !c.Caps.Inheritable.Has(capNum) || c.secure(SecureNoCapAmbientRaise) {
		return c, unix.EPERM
	}
	n.Caps.Ambient |= 1 << capNum
	return n, nil
}
