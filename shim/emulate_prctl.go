package shim

import "golang.org/x/sys/unix"

// emuPrctl emulates the prctl options listed in PrctlOptions and lets the
// kernel run every other option. The option is an int: only its low 32 bits
// count.
func emuPrctl(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	switch uint32(call.Args[0]) {
	case unix.PR_SET_SECCOMP:
		return c, prctlSetSeccomp(c, call, mem, env)
	case unix.PR_GET_KEEPCAPS:
		return c, ret(c.KeepCaps())
	case unix.PR_SET_KEEPCAPS:
		n, err := c.SetKeepCaps(call.Args[1])
		return n, result(err)
	case unix.PR_GET_SECUREBITS:
		return c, ret(int64(c.Securebits))
	case unix.PR_SET_SECUREBITS:
		n, err := c.SetSecurebits(call.Args[1])
		return n, result(err)
	case unix.PR_CAPBSET_READ:
		if !capValid(call.Args[1]) {
			return c, fail(unix.EINVAL)
		}
		return c, ret(boolInt(c.Caps.Bounding.Has(uint(call.Args[1]))))
	case unix.PR_CAPBSET_DROP:
		n, err := c.DropBounding(call.Args[1])
		return n, result(err)
	case unix.PR_CAP_AMBIENT:
		return emuAmbient(c, call.Args)
	}
	return c, run(call.Args)
}

// emuAmbient implements prctl(PR_CAP_AMBIENT, op, cap, 0, 0) with the checks
// of security/commoncap.c: unused arguments must be zero (EINVAL), cap must
// be valid, and IS_SET reads while RAISE and LOWER change the set.
func emuAmbient(c Creds, a [6]uint64) (Creds, Outcome) {
	if a[1] == unix.PR_CAP_AMBIENT_CLEAR_ALL {
		if a[2]|a[3]|a[4] != 0 {
			return c, fail(unix.EINVAL)
		}
		n := c
		n.Caps.Ambient = 0
		return n, ret(0)
	}
	if !capValid(a[2]) || a[3]|a[4] != 0 {
		return c, fail(unix.EINVAL)
	}
	switch a[1] {
	case unix.PR_CAP_AMBIENT_IS_SET:
		return c, ret(boolInt(c.Caps.Ambient.Has(uint(a[2]))))
	case unix.PR_CAP_AMBIENT_RAISE, unix.PR_CAP_AMBIENT_LOWER:
		n, err := c.SetAmbient(uint(a[2]), a[1] == unix.PR_CAP_AMBIENT_RAISE)
		return n, result(err)
	}
	return c, fail(unix.EINVAL)
}

// capValid is the kernel's cap_valid: 0 <= cap <= CAP_LAST_CAP.
func capValid(v uint64) bool { return v < 64 && validMask.Has(uint(v)) }

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
