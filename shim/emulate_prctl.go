package shim

import "golang.org/x/sys/unix"

// emuPrctl emulates the prctl options listed in PrctlOptions and lets the
// kernel run every other option. The option is an int: only its low 32 bits
// count.
func emuPrctl(c Creds, call Call, _ Memory, _ Env) (Creds, Outcome) {
	switch uint32(call.Args[0]) {
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
	}
	return c, run(call.Args)
}
