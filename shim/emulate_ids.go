package shim

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

func emuSetuid(c Creds, call Call, _ Memory, _ Env) (Creds, Outcome) {
	n, err := c.SetUID(id(call.Args[0]))
	return n, result(err)
}

func emuSetgid(c Creds, call Call, _ Memory, _ Env) (Creds, Outcome) {
	n, err := c.SetGID(id(call.Args[0]))
	return n, result(err)
}

func emuSetreuid(c Creds, call Call, _ Memory, _ Env) (Creds, Outcome) {
	n, err := c.SetREUID(id(call.Args[0]), id(call.Args[1]))
	return n, result(err)
}

func emuSetregid(c Creds, call Call, _ Memory, _ Env) (Creds, Outcome) {
	n, err := c.SetREGID(id(call.Args[0]), id(call.Args[1]))
	return n, result(err)
}

func emuSetresuid(c Creds, call Call, _ Memory, _ Env) (Creds, Outcome) {
	n, err := c.SetRESUID(id(call.Args[0]), id(call.Args[1]), id(call.Args[2]))
	return n, result(err)
}

func emuSetresgid(c Creds, call Call, _ Memory, _ Env) (Creds, Outcome) {
	n, err := c.SetRESGID(id(call.Args[0]), id(call.Args[1]), id(call.Args[2]))
	return n, result(err)
}

func emuSetfsuid(c Creds, call Call, _ Memory, _ Env) (Creds, Outcome) {
	n, old := c.SetFSUID(id(call.Args[0]))
	return n, ret(int64(old))
}

func emuSetfsgid(c Creds, call Call, _ Memory, _ Env) (Creds, Outcome) {
	n, old := c.SetFSGID(id(call.Args[0]))
	return n, ret(int64(old))
}

func emuGetuid(c Creds, _ Call, _ Memory, _ Env) (Creds, Outcome)  { return c, ret(int64(c.UID)) }
func emuGeteuid(c Creds, _ Call, _ Memory, _ Env) (Creds, Outcome) { return c, ret(int64(c.EUID)) }
func emuGetgid(c Creds, _ Call, _ Memory, _ Env) (Creds, Outcome)  { return c, ret(int64(c.GID)) }
func emuGetegid(c Creds, _ Call, _ Memory, _ Env) (Creds, Outcome) { return c, ret(int64(c.EGID)) }

// emuGetresuid writes the three ids one by one, failing with EFAULT at the
// first pointer that cannot be written, as getresuid(2) does.
func emuGetresuid(c Creds, call Call, mem Memory, _ Env) (Creds, Outcome) {
	return c, writeTriple(mem, call, c.UID, c.EUID, c.SUID)
}

func emuGetresgid(c Creds, call Call, mem Memory, _ Env) (Creds, Outcome) {
	return c, writeTriple(mem, call, c.GID, c.EGID, c.SGID)
}

func writeTriple(mem Memory, call Call, a, b, d uint32) Outcome {
	if bw, ok := mem.(ScatterWriter); ok {
		var buf [12]byte
		binary.LittleEndian.PutUint32(buf[0:], a)
		binary.LittleEndian.PutUint32(buf[4:], b)
		binary.LittleEndian.PutUint32(buf[8:], d)
		if bw.WriteScattered([][]byte{buf[0:4], buf[4:8], buf[8:12]}, call.Args[:3]) == nil {
			return ret(0)
		}
		// A bad pointer: write one by one to fail where the kernel does.
	}
	for i, v := range []uint32{a, b, d} {
		if err := writeU32s(mem, call.Args[i], v); err != nil {
			return fail(err)
		}
	}
	return ret(0)
}

// emuSetgroups reads the list only after the privilege and size checks, in
// the kernel's order (EPERM, then EINVAL, then EFAULT). The size is an int:
// a negative one is EINVAL.
func emuSetgroups(c Creds, call Call, mem Memory, _ Env) (Creds, Outcome) {
	size := int32(call.Args[0])
	if !c.Caps.Effective.Has(CapSetgid) {
		return c, fail(unix.EPERM)
	}
	if size < 0 || size > NGroupsMax {
		return c, fail(unix.EINVAL)
	}
	groups, err := readU32s(mem, call.Args[1], int(size))
	if err != nil {
		return c, fail(err)
	}
	n, err := c.SetGroups(groups)
	return n, result(err)
}

// emuGetgroups implements getgroups(2): "If size is zero, list is not
// modified, but the total number of supplementary group IDs for the process
// is returned"; "EINVAL size is less than the number of supplementary group
// IDs, but is not zero."
func emuGetgroups(c Creds, call Call, mem Memory, _ Env) (Creds, Outcome) {
	size := int32(call.Args[0])
	if size < 0 {
		return c, fail(unix.EINVAL)
	}
	count := len(c.Groups)
	if size != 0 {
		if count > int(size) {
			return c, fail(unix.EINVAL)
		}
		if err := writeU32s(mem, call.Args[1], c.Groups...); err != nil {
			return c, fail(err)
		}
	}
	return c, ret(int64(count))
}
