package shim

import "golang.org/x/sys/unix"

// Capability header versions (linux/capability.h) and how many 32-bit data
// structs each one reads or writes.
const (
	capVersion1 = 0x19980330
	capVersion2 = 0x20071026
	capVersion3 = 0x20080522
)

// capDataCount checks the header's version as cap_validate_magic does: an
// unknown version makes the kernel write its preferred version back into the
// header and fail with EINVAL.
func capDataCount(mem Memory, hdr uint64) (int, error) {
	v, err := readU32s(mem, hdr, 1)
	if err != nil {
		return 0, err
	}
	switch v[0] {
	case capVersion1:
		return 1, nil
	case capVersion2, capVersion3:
		return 2, nil
	}
	if err := writeU32s(mem, hdr, capVersion3); err != nil {
		return 0, err
	}
	return 0, unix.EINVAL
}

// emuCapget implements capget(2). With a NULL data pointer it only probes
// the version: "If data is NULL, ... capget() returns 0 after writing the
// preferred version into the header" (the kernel returns 0 in that case even
// for an unknown version). A pid other than 0 or the caller's names another
// thread: a traced one answers from its emulated state, an untraced one is
// left to the kernel.
func emuCapget(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	hdr, data := call.Args[0], call.Args[1]
	count, err := capDataCount(mem, hdr)
	if data == 0 || err != nil {
		// kernel/capability.c: "return ((dataptr == NULL) && (ret == -EINVAL)) ? 0 : ret;"
		if data == 0 && (err == nil || err == unix.EINVAL) {
			return c, ret(0)
		}
		return c, fail(err)
	}
	pid, err := readU32s(mem, hdr+4, 1)
	if err != nil {
		return c, fail(err)
	}
	target := c
	if p := int32(pid[0]); p < 0 {
		return c, fail(unix.EINVAL)
	} else if p != 0 && int(p) != env.Tid() {
		other, ok := env.CredsOf(int(p))
		if !ok {
			return c, run(call.Args)
		}
		target = other
	}
	e, p, i := target.Caps.Effective, target.Caps.Permitted, target.Caps.Inheritable
	words := []uint32{uint32(e), uint32(p), uint32(i), uint32(e >> 32), uint32(p >> 32), uint32(i >> 32)}
	if err := writeU32s(mem, data, words[:3*count]...); err != nil {
		return c, fail(err)
	}
	return c, ret(0)
}

// emuCapset implements capset(2): "EPERM ... pid field of hdrp [is] not
// zero and not the caller's"; the data is read after the header checks.
func emuCapset(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	hdr, data := call.Args[0], call.Args[1]
	count, err := capDataCount(mem, hdr)
	if err != nil {
		return c, fail(err)
	}
	pid, err := readU32s(mem, hdr+4, 1)
	if err != nil {
		return c, fail(err)
	}
	if p := int32(pid[0]); p != 0 && int(p) != env.Tid() {
		return c, fail(unix.EPERM)
	}
	w, err := readU32s(mem, data, 3*count)
	if err != nil {
		return c, fail(err)
	}
	w = append(w, make([]uint32, 6-len(w))...)
	e := (CapSet(w[0]) | CapSet(w[3])<<32) & validMask
	p := (CapSet(w[1]) | CapSet(w[4])<<32) & validMask
	i := (CapSet(w[2]) | CapSet(w[5])<<32) & validMask
	n, err := c.SetCaps(e, p, i)
	return n, result(err)
}

// validMask is CAP_VALID_MASK: capabilities the running kernel knows.
// SetValidCaps sets it from /proc/sys/kernel/cap_last_cap at start-up.
var validMask = AllCaps(40)

// SetValidCaps records the kernel's last capability number.
func SetValidCaps(last uint) { validMask = AllCaps(last) }

// ValidCaps is the mask of capabilities the running kernel knows.
func ValidCaps() CapSet { return validMask }
