package shim

import (
	"encoding/binary"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// fullEnv is mode full in a single-id namespace. The ACL handlers only ask
// whether Files is there; the embedded nil interface fails any other use.
type fullEnv struct{ fakeEnv }

type aclFiles struct{ Files }

func (fullEnv) Files() Files { return aclFiles{} }

// Addresses in an aclMemory.
const (
	aclPathAddr = base
	aclNameAddr = base + 256
	aclValAddr  = base + 512
	aclArgsAddr = base + 1536
	aclMemSz    = 2048 + ScratchSize
)

func aclMemory(name string, value []byte) *fakeMemory {
	m := &fakeMemory{base: base, buf: make([]byte, aclMemSz)}
	copy(m.buf[aclPathAddr-base:], "/var/log/journal\x00")
	copy(m.buf[aclNameAddr-base:], name+"\x00")
	copy(m.buf[aclValAddr-base:], value)
	return m
}

func (m *fakeMemory) bytes(addr uint64, n int) []byte {
	return append([]byte(nil), m.buf[addr-m.base:addr-m.base+uint64(n)]...)
}

// stepValue is what a set step has the kernel read: its In laid out in m.
func stepValue(t *testing.T, m *fakeMemory, st *Step) []byte {
	t.Helper()
	m.WriteAt(st.In, st.InAddr)
	addr, size := st.Args[2], st.Args[3]
	if st.Nr == unix.SYS_SETXATTRAT {
		args := m.bytes(st.Args[4], xattrArgsSize)
		addr, size = binary.LittleEndian.Uint64(args), uint64(binary.LittleEndian.Uint32(args[8:]))
	}
	return m.bytes(addr, int(size))
}

var (
	journalACL = aclValue(2, ACLUserObj, 7, undef, ACLGroupObj, 5, undef, ACLGroup, 5, 4,
		ACLMask, 5, undef, ACLOther, 5, undef)
	journalKept = aclValue(2, ACLUserObj, 7, undef, ACLGroupObj, 5, undef, ACLMask, 5, undef, ACLOther, 5, undef)
	journalRec  = aclValue(2, ACLGroup, 5, 4)
	rootACL     = aclValue(2, ACLUserObj, 7, undef, ACLUser, 7, 0, ACLGroupObj, 5, undef, ACLMask, 7, undef,
		ACLOther, 5, undef)
)

func TestACLSetCreds(t *testing.T) {
	setxattr := func(value []byte) Call {
		return call(unix.SYS_SETXATTR, aclPathAddr, aclNameAddr, aclValAddr, uint64(len(value)), 0)
	}
	// An unmapped group: the kernel sets the ACL without it.
	m := aclMemory(ACLAccessXattr, journalACL)
	_, out := Emulate(Root(all), setxattr(journalACL), m, fakeEnv{})
	if out.Kind != Steps {
		t.Fatalf("unmapped group: %+v, want a plan", out)
	}
	st, _ := out.Plan.Next(0)
	if st == nil || st.Nr != unix.SYS_SETXATTR || st.Args[0] != aclPathAddr || st.Args[1] != aclNameAddr || st.Args[4] != 0 {
		t.Fatalf("step %+v, want setxattr of the caller's path and name", st)
	}
	if got := stepValue(t, m, st); !reflect.DeepEqual(got, journalKept) {
		t.Errorf("value set %x, want %x (the ACL without g:4, mask kept)", got, journalKept)
	}
	if next, final := out.Plan.Next(0); next != nil || final != 0 {
		t.Errorf("after the set: %+v %d, want 0", next, final)
	}
	// The kernel's errors are the caller's.
	_, out = Emulate(Root(all), setxattr(journalACL), m, fakeEnv{})
	out.Plan.Next(0)
	if next, final := out.Plan.Next(-int64(unix.ENOENT)); next != nil || final != -int64(unix.ENOENT) {
		t.Errorf("missing file: %+v %d, want ENOENT", next, final)
	}
	// Flags go to the kernel, which checks them.
	c := setxattr(journalACL)
	c.Args[4] = unix.XATTR_CREATE
	_, out = Emulate(Root(all), c, m, fakeEnv{})
	if st, _ := out.Plan.Next(0); st.Args[4] != unix.XATTR_CREATE {
		t.Errorf("flags %#x, want XATTR_CREATE", st.Args[4])
	}

	bad := aclValue(2, ACLUserObj, 7, undef, ACLGroupObj, 5, undef, ACLGroup, 5, 4, ACLOther, 5, undef)
	for _, c := range []struct {
		name  string
		xattr string
		value []byte
	}{
		{"only mapped ids", ACLAccessXattr, rootACL},
		{"named entry without mask: the kernel's EINVAL", ACLAccessXattr, bad},
		{"unknown tag", ACLAccessXattr, aclValue(2, 0x40, 7, 4)},
		{"version 1: the kernel's EOPNOTSUPP", ACLAccessXattr, aclValue(1, ACLGroup, 5, 4)},
		{"partial entry", ACLDefaultXattr, journalACL[:len(journalACL)-1]},
		{"removal by an empty value", ACLAccessXattr, nil},
		{"another xattr", "user.comment", journalACL},
		{"the owner xattr (mode creds)", OwnerXattr, []byte{8, 1}},
	} {
		m := aclMemory(c.xattr, c.value)
		call := setxattr(c.value)
		if _, out := Emulate(Root(all), call, m, fakeEnv{}); out.Kind != Run || out.Args != call.Args {
			t.Errorf("%s: %+v, want the call unchanged", c.name, out)
		}
	}
	// An unreadable value or name: the kernel's EFAULT.
	call := call(unix.SYS_SETXATTR, aclPathAddr, aclNameAddr, 8, uint64(len(journalACL)), 0)
	if _, out := Emulate(Root(all), call, aclMemory(ACLAccessXattr, nil), fakeEnv{}); out.Kind != Run {
		t.Errorf("bad value pointer: %+v, want the call unchanged", out)
	}
	call.Args[1], call.Args[2] = 8, aclValAddr
	if _, out := Emulate(Root(all), call, aclMemory(ACLAccessXattr, journalACL), fakeEnv{}); out.Kind != Run {
		t.Errorf("bad name pointer: %+v, want the call unchanged", out)
	}
}

func TestACLSetForms(t *testing.T) {
	// fsetxattr: the descriptor; lsetxattr: the l* form; default ACL too.
	for _, nr := range []uintptr{unix.SYS_FSETXATTR, unix.SYS_LSETXATTR} {
		m := aclMemory(ACLDefaultXattr, journalACL)
		_, out := Emulate(Root(all), call(nr, 3, aclNameAddr, aclValAddr, uint64(len(journalACL)), 0), m, fakeEnv{})
		st, _ := out.Plan.Next(0)
		if st.Nr != nr || st.Args[0] != 3 || !reflect.DeepEqual(stepValue(t, m, st), journalKept) {
			t.Errorf("nr %d: step %+v", nr, st)
		}
	}
	// setxattrat: the value is in a struct xattr_args.
	m := aclMemory(ACLAccessXattr, journalACL)
	args := binary.LittleEndian.AppendUint64(nil, aclValAddr)
	args = binary.LittleEndian.AppendUint32(args, uint32(len(journalACL)))
	args = binary.LittleEndian.AppendUint32(args, unix.XATTR_REPLACE)
	m.WriteAt(args, aclArgsAddr)
	at := call(unix.SYS_SETXATTRAT, 5, aclPathAddr, unix.AT_SYMLINK_NOFOLLOW, aclNameAddr, aclArgsAddr, xattrArgsSize)
	_, out := Emulate(Root(all), at, m, fakeEnv{})
	if out.Kind != Steps {
		t.Fatalf("setxattrat: %+v, want a plan", out)
	}
	st, _ := out.Plan.Next(0)
	if st.Nr != unix.SYS_SETXATTRAT || st.Args[0] != 5 || st.Args[1] != aclPathAddr || st.Args[2] != unix.AT_SYMLINK_NOFOLLOW ||
		st.Args[3] != aclNameAddr || st.Args[5] != xattrArgsSize || st.Args[4] == aclArgsAddr {
		t.Fatalf("setxattrat step %+v", st)
	}
	if got := stepValue(t, m, st); !reflect.DeepEqual(got, journalKept) {
		t.Errorf("setxattrat value %x, want %x", got, journalKept)
	}
	if f := binary.LittleEndian.Uint32(m.bytes(st.Args[4]+12, 4)); f != unix.XATTR_REPLACE {
		t.Errorf("setxattrat flags %#x, want XATTR_REPLACE", f)
	}
	// A struct of another size is the kernel's to judge.
	at.Args[5] = 24
	if _, out := Emulate(Root(all), at, m, fakeEnv{}); out.Kind != Run {
		t.Errorf("setxattrat, usize 24: %+v, want the call unchanged", out)
	}
}

func TestACLSetFull(t *testing.T) {
	m := aclMemory(ACLAccessXattr, journalACL)
	c := call(unix.SYS_SETXATTR, aclPathAddr, aclNameAddr, aclValAddr, uint64(len(journalACL)), 0)
	_, out := Emulate(Root(all), c, m, fullEnv{})
	st, _ := out.Plan.Next(0)
	if st.Nr != unix.SYS_SETXATTR || !reflect.DeepEqual(stepValue(t, m, st), journalKept) {
		t.Fatalf("first step %+v, want the reduced ACL", st)
	}
	st, _ = out.Plan.Next(0)
	if st == nil || st.Nr != unix.SYS_SETXATTR || st.Args[0] != aclPathAddr || st.Args[4] != 0 {
		t.Fatalf("second step %+v, want setxattr of the record", st)
	}
	m.WriteAt(st.In, st.InAddr)
	if name, _ := readPath(m, st.Args[1]); name != "user.remainroot.posix_acl_access" {
		t.Errorf("record name %q", name)
	}
	if got := stepValue(t, m, st); !reflect.DeepEqual(got, journalRec) {
		t.Errorf("record %x, want %x", got, journalRec)
	}
	if next, final := out.Plan.Next(0); next != nil || final != 0 {
		t.Errorf("end: %+v %d", next, final)
	}
	// The kernel refuses: nothing recorded.
	_, out = Emulate(Root(all), c, m, fullEnv{})
	out.Plan.Next(0)
	if next, final := out.Plan.Next(-int64(unix.EPERM)); next != nil || final != -int64(unix.EPERM) {
		t.Errorf("not the owner: %+v %d, want EPERM", next, final)
	}
	// Only mapped ids: the call as it is, then the record removed (none
	// there is fine).
	m = aclMemory(ACLDefaultXattr, rootACL)
	c = call(unix.SYS_SETXATTR, aclPathAddr, aclNameAddr, aclValAddr, uint64(len(rootACL)), 0)
	_, out = Emulate(Root(all), c, m, fullEnv{})
	if st, _ := out.Plan.Next(0); st.Nr != c.Nr || st.Args != c.Args {
		t.Errorf("mapped only: first step %+v, want the call", st)
	}
	st, _ = out.Plan.Next(0)
	m.WriteAt(st.In, st.InAddr)
	if name, _ := readPath(m, st.Args[1]); st.Nr != unix.SYS_REMOVEXATTR || name != "user.remainroot.posix_acl_default" {
		t.Errorf("mapped only: second step %+v (%q), want removexattr of the record", st, name)
	}
	if _, final := out.Plan.Next(-int64(unix.ENODATA)); final != 0 {
		t.Errorf("no record to remove: %d, want 0", final)
	}
	// Bookkeeping names are refused.
	for _, name := range []string{OwnerXattr, "user.remainroot.posix_acl_access", "user.remainroot.posix_acl_default"} {
		if _, out := Emulate(Root(all), c, aclMemory(name, rootACL), fullEnv{}); out.Kind != Return || out.Value != -int64(unix.EPERM) {
			t.Errorf("setxattr %s: %+v, want EPERM", name, out)
		}
	}
}

func TestACLGetFull(t *testing.T) {
	get := func(size uint64) Call { return call(unix.SYS_GETXATTR, aclPathAddr, aclNameAddr, aclValAddr, size) }
	merged := aclValue(2, ACLUserObj, 7, undef, ACLGroupObj, 5, undef, ACLGroup, 5, 4, ACLMask, 5, undef, ACLOther, 5, undef)
	// run has the plan read the record rec (nil: ENODATA) and the kernel's
	// ACL, and returns the final value.
	run := func(c Call, m *fakeMemory, rec []byte) int64 {
		t.Helper()
		_, out := Emulate(Root(all), c, m, fullEnv{})
		if out.Kind != Steps {
			t.Fatalf("getxattr: %+v, want a plan", out)
		}
		st, _ := out.Plan.Next(0)
		m.WriteAt(st.In, st.InAddr)
		if name, _ := readPath(m, st.Args[1]); st.Nr != c.Nr || name != "user.remainroot.posix_acl_access" {
			t.Fatalf("first step %+v (%q), want getxattr of the record", st, name)
		}
		fp, ok := out.Plan.(FusablePlan)
		if !ok {
			t.Fatalf("plan %T cannot be fused", out.Plan)
		}
		second, rule, ok := fp.Fuse()
		if !ok || !second.Direct || second.Args != c.Args || !rule.GoesOn(-int64(unix.ENODATA)) || rule.GoesOn(12) {
			t.Fatalf("fuse: %+v %+v %v, want the call itself after no record", second, rule, ok)
		}
		if rec == nil {
			next, _ := out.Plan.Next(-int64(unix.ENODATA))
			if next == nil || !next.Direct || next.Args != c.Args {
				t.Fatalf("no record: %+v, want the call itself", next)
			}
			return 1
		}
		m.WriteAt(rec, st.Args[2])
		st, _ = out.Plan.Next(int64(len(rec)))
		if st == nil || st.Args[1] != aclNameAddr || st.Args[2] == aclValAddr {
			t.Fatalf("second step %+v, want the kernel's ACL into scratch", st)
		}
		m.WriteAt(journalKept, st.Args[2])
		next, final := out.Plan.Next(int64(len(journalKept)))
		if next != nil {
			t.Fatalf("third step %+v", next)
		}
		return final
	}
	run(get(100), aclMemory(ACLAccessXattr, nil), nil)

	m := aclMemory(ACLAccessXattr, nil)
	if got := run(get(100), m, journalRec); got != int64(len(merged)) || !reflect.DeepEqual(m.bytes(aclValAddr, len(merged)), merged) {
		t.Errorf("merged: %d %x, want %d %x", got, m.bytes(aclValAddr, len(merged)), len(merged), merged)
	}
	if got := run(get(0), aclMemory(ACLAccessXattr, nil), journalRec); got != int64(len(merged)) {
		t.Errorf("size query: %d, want %d", got, len(merged))
	}
	if got := run(get(uint64(len(merged)-1)), aclMemory(ACLAccessXattr, nil), journalRec); got != -int64(unix.ERANGE) {
		t.Errorf("small buffer: %d, want ERANGE", got)
	}
	bad := get(100)
	bad.Args[2] = 8
	if got := run(bad, aclMemory(ACLAccessXattr, nil), journalRec); got != -int64(unix.EFAULT) {
		t.Errorf("bad buffer: %d, want EFAULT", got)
	}
	// No ACL in the kernel: its ENODATA, the record is stale.
	_, out := Emulate(Root(all), get(100), aclMemory(ACLAccessXattr, nil), fullEnv{})
	st, _ := out.Plan.Next(0)
	m.WriteAt(journalRec, st.Args[2])
	out.Plan.Next(int64(len(journalRec)))
	if next, final := out.Plan.Next(-int64(unix.ENODATA)); next != nil || final != -int64(unix.ENODATA) {
		t.Errorf("no kernel ACL: %+v %d, want ENODATA", next, final)
	}
	// Mode creds and other names: the kernel answers.
	if _, out := Emulate(Root(all), get(100), aclMemory(ACLAccessXattr, nil), fakeEnv{}); out.Kind != Run {
		t.Errorf("mode creds: %+v, want run", out)
	}
	if _, out := Emulate(Root(all), get(100), aclMemory("user.x", nil), fullEnv{}); out.Kind != Run {
		t.Errorf("user.x: %+v, want run", out)
	}
	for _, name := range []string{OwnerXattr, "user.remainroot.posix_acl_default"} {
		if _, out := Emulate(Root(all), get(100), aclMemory(name, nil), fullEnv{}); out.Value != -int64(unix.ENODATA) {
			t.Errorf("getxattr %s: %+v, want ENODATA", name, out)
		}
	}
}

func TestACLRemoveFull(t *testing.T) {
	c := call(unix.SYS_LREMOVEXATTR, aclPathAddr, aclNameAddr)
	m := aclMemory(ACLDefaultXattr, nil)
	_, out := Emulate(Root(all), c, m, fullEnv{})
	if st, _ := out.Plan.Next(0); st.Nr != c.Nr || st.Args != c.Args {
		t.Fatalf("first step %+v, want the call", st)
	}
	st, _ := out.Plan.Next(0)
	m.WriteAt(st.In, st.InAddr)
	if name, _ := readPath(m, st.Args[1]); st.Nr != unix.SYS_LREMOVEXATTR || name != "user.remainroot.posix_acl_default" {
		t.Errorf("second step %+v (%q), want lremovexattr of the record", st, name)
	}
	if _, final := out.Plan.Next(-int64(unix.ENODATA)); final != 0 {
		t.Errorf("end %d, want 0", final)
	}
	_, out = Emulate(Root(all), c, m, fullEnv{})
	out.Plan.Next(0)
	if next, final := out.Plan.Next(-int64(unix.ENODATA)); next != nil || final != -int64(unix.ENODATA) {
		t.Errorf("no ACL: %+v %d, want ENODATA", next, final)
	}
}

func TestListHidesACLRecords(t *testing.T) {
	names := "user.a\x00user.remainroot.posix_acl_access\x00system.posix_acl_access\x00" + OwnerXattr + "\x00"
	m := &fakeMemory{base: base, buf: make([]byte, 4096)}
	_, out := Emulate(Root(all), call(unix.SYS_LISTXATTR, aclPathAddr, aclValAddr, 200), m, fullEnv{})
	out.Plan.Next(0)
	copy(m.buf[aclValAddr-base:], names)
	_, final := out.Plan.Next(int64(len(names)))
	want := "user.a\x00system.posix_acl_access\x00"
	if got := string(m.bytes(aclValAddr, int(final))); got != want {
		t.Errorf("list %q, want %q", got, want)
	}
}
