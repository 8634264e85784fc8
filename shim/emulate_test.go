package shim

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeMemory is a flat address space starting at base; other addresses
// fault.
type fakeMemory struct {
	base uint64
	buf  []byte
}

func (m *fakeMemory) in(addr uint64, n int) bool {
	return addr >= m.base && addr+uint64(n) <= m.base+uint64(len(m.buf))
}

func (m *fakeMemory) ReadAt(p []byte, addr uint64) error {
	if !m.in(addr, len(p)) {
		return unix.EFAULT
	}
	copy(p, m.buf[addr-m.base:])
	return nil
}

func (m *fakeMemory) WriteAt(p []byte, addr uint64) error {
	if !m.in(addr, len(p)) {
		return unix.EFAULT
	}
	copy(m.buf[addr-m.base:], p)
	return nil
}

func (m *fakeMemory) u32(addr uint64) uint32 { return binary.LittleEndian.Uint32(m.buf[addr-m.base:]) }

type fakeEnv struct{}

func (fakeEnv) Tid() int                  { return 100 }
func (fakeEnv) CredsOf(int) (Creds, bool) { return Creds{}, false }
func (fakeEnv) Scratch() uint64           { return base + 2048 }
func (fakeEnv) Files() Files              { return nil }
func (fakeEnv) NoNewPrivs() bool          { return false }
func (fakeEnv) ReadOnlyMount(uint64) bool { return false }

// Mapped: a single-id namespace.
func (fakeEnv) Mapped(id uint32, _ bool) bool { return id == 0 }

const base = 0x10000

func call(nr uintptr, args ...uint64) Call {
	c := Call{Nr: nr}
	copy(c.Args[:], args)
	return c
}

func TestEmulateSyscalls(t *testing.T) {
	two, _ := Root(all).SetGroups([]uint32{4, 8})
	cases := []struct {
		name  string
		creds Creds
		call  Call
		want  int64
		check func(t *testing.T, m *fakeMemory, c Creds)
	}{
		{"getgroups(0) counts", two, call(unix.SYS_GETGROUPS, 0, 0), 2, nil},
		{"getgroups(1) with 2 is EINVAL", two, call(unix.SYS_GETGROUPS, 1, base), -int64(unix.EINVAL), nil},
		{"getgroups(-1) is EINVAL", two, call(unix.SYS_GETGROUPS, uint64(^uint32(0)), base), -int64(unix.EINVAL), nil},
		{"getgroups writes sorted list", two, call(unix.SYS_GETGROUPS, 2, base), 2,
			func(t *testing.T, m *fakeMemory, _ Creds) {
				if m.u32(base) != 4 || m.u32(base+4) != 8 {
					t.Errorf("list = %d %d", m.u32(base), m.u32(base+4))
				}
			}},
		{"getresuid bad pointer is EFAULT", Root(all), call(unix.SYS_GETRESUID, base, base+4, 8), -int64(unix.EFAULT), nil},
		{"setgroups bad pointer is EFAULT", Root(all), call(unix.SYS_SETGROUPS, 1, 8), -int64(unix.EFAULT), nil},
		{"setgroups -1 is EINVAL", Root(all), call(unix.SYS_SETGROUPS, uint64(^uint32(0)), base), -int64(unix.EINVAL), nil},
		{"setgroups unprivileged is EPERM before EFAULT", user(1, 1), call(unix.SYS_SETGROUPS, 1, 8), -int64(unix.EPERM), nil},
		{"setfsuid returns the old value", Root(all), call(unix.SYS_SETFSUID, 77), 0,
			func(t *testing.T, _ *fakeMemory, c Creds) {
				if c.FSUID != 77 {
					t.Errorf("fsuid = %d", c.FSUID)
				}
			}},
		{"setuid takes 32 bits", Root(all), call(unix.SYS_SETUID, 1<<32|5), 0,
			func(t *testing.T, _ *fakeMemory, c Creds) {
				if c.UID != 5 {
					t.Errorf("uid = %d", c.UID)
				}
			}},
		{"prctl get keepcaps", Root(all), call(unix.SYS_PRCTL, unix.PR_GET_KEEPCAPS), 0, nil},
		{"capget with bad version writes v3, EINVAL", Root(all), call(unix.SYS_CAPGET, base, base+8), -int64(unix.EINVAL),
			func(t *testing.T, m *fakeMemory, _ Creds) {
				if m.u32(base) != capVersion3 {
					t.Errorf("version written = %#x", m.u32(base))
				}
			}},
		{"capget with NULL data and bad version is 0", Root(all), call(unix.SYS_CAPGET, base, 0), 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &fakeMemory{base: base, buf: make([]byte, 64)}
			got, out := Emulate(c.creds, c.call, m, fakeEnv{})
			if out.Kind != Return || out.Value != c.want {
				t.Fatalf("outcome %+v, want return %d", out, c.want)
			}
			if c.check != nil {
				c.check(t, m, got)
			}
		})
	}
}

// allMapped is fakeEnv in a namespace that maps every id.
type allMapped struct{ fakeEnv }

func (allMapped) Mapped(uint32, bool) bool { return true }

// roMounts is allMapped where every mount is read-only.
type roMounts struct{ allMapped }

func (roMounts) ReadOnlyMount(uint64) bool { return true }

// statOwner writes a struct stat of a regular file owned by uid:gid at
// addr.
func statOwner(m Memory, addr uint64, uid, gid uint32) {
	b := make([]byte, statSize)
	binary.LittleEndian.PutUint32(b[statMode:], unix.S_IFREG|0o644)
	binary.LittleEndian.PutUint32(b[statUID:], uid)
	binary.LittleEndian.PutUint32(b[statGID:], gid)
	m.WriteAt(b, addr)
}

func TestEmulateChownRunsKernelNoop(t *testing.T) {
	// Even with CAP_CHOWN the thread stats the object first (CAP_CHOWN
	// covers only owners the namespace maps), then makes the no-op chown.
	m := &fakeMemory{base: base, buf: make([]byte, 4096)}
	_, out := Emulate(Root(all), call(unix.SYS_FCHOWNAT, fdcwd, base, 1000, 1000, 0), m, allMapped{})
	if out.Kind != Steps {
		t.Fatalf("privileged fchownat: %+v, want a plan", out)
	}
	step, _ := out.Plan.Next(0)
	if step == nil || step.Nr != unix.SYS_NEWFSTATAT || step.Args[1] != base {
		t.Fatalf("first step %+v, want newfstatat of the caller's path", step)
	}
	statOwner(m, step.Args[2], 7, 7)
	if next, _ := out.Plan.Next(0); next == nil || !next.Direct || !next.Untraced || uint32(next.Args[2]) != NoID || uint32(next.Args[3]) != NoID {
		t.Fatalf("privileged fchownat: last step %+v, want the no-op chown", next)
	}
	// Without CAP_CHOWN the thread stats the file itself first.
	_, out = Emulate(user(5, 5), call(unix.SYS_FCHOWNAT, fdcwd, base, 1000, 1000, 0), m, allMapped{})
	if out.Kind != Steps {
		t.Fatalf("unprivileged fchownat: %+v, want a plan", out)
	}
	step, _ = out.Plan.Next(0)
	if step == nil || step.Nr != unix.SYS_NEWFSTATAT || step.Args[1] != base {
		t.Fatalf("first step %+v, want newfstatat of the caller's path", step)
	}
	if next, final := out.Plan.Next(-int64(unix.ENOENT)); next != nil || final != -int64(unix.ENOENT) {
		t.Fatalf("missing file: step %+v final %d, want ENOENT", next, final)
	}
	// A file the caller owns: chown to itself is allowed, to another EPERM
	// (after a statx of the mount: EROFS on a read-only one).
	for _, c := range []struct {
		uid  uint64
		env  Env
		want int64
	}{{5, allMapped{}, 0}, {1000, allMapped{}, -int64(unix.EPERM)}, {1000, roMounts{}, -int64(unix.EROFS)}} {
		_, out = Emulate(user(5, 5), call(unix.SYS_FCHOWNAT, fdcwd, base, c.uid, uint64(NoID), 0), m, c.env)
		step, _ := out.Plan.Next(0)
		statOwner(m, step.Args[2], 5, 5)
		next, final := out.Plan.Next(0)
		if c.want == 0 {
			if next == nil || !next.Direct || uint32(next.Args[2]) != NoID {
				t.Errorf("chown to own uid: step %+v, want the no-op chown", next)
			}
			continue
		}
		if next == nil || next.Nr != unix.SYS_STATX || next.Args[1] != base || next.Args[3] != unix.STATX_MNT_ID {
			t.Fatalf("chown to %d: step %+v, want a statx of the mount", c.uid, next)
		}
		stx := make([]byte, statxMntID+8)
		binary.LittleEndian.PutUint32(stx, unix.STATX_MNT_ID)
		binary.LittleEndian.PutUint64(stx[statxMntID:], 42)
		m.WriteAt(stx, next.Args[4])
		if next, final = out.Plan.Next(0); next != nil || final != c.want {
			t.Errorf("chown to %d: step %+v final %d, want %d", c.uid, next, final, c.want)
		}
	}
	_, out = Emulate(Root(all), call(unix.SYS_FCHOWNAT, 0, base, 1, 1, 0x8000),
		&fakeMemory{base: base, buf: make([]byte, 8)}, fakeEnv{})
	if out.Value != -int64(unix.EINVAL) {
		t.Fatalf("bad flags: %+v, want EINVAL", out)
	}
}

// TestChownUnmappedOwner: CAP_CHOWN covers only objects whose owner the
// namespace maps, and an unmapped owner (shown as 65534) is never the
// caller, not even an emulated 65534 (issue 11, item 4).
func TestChownUnmappedOwner(t *testing.T) {
	nobody, err := Root(all).SetRESUID(65534, 65534, 65534)
	if err != nil {
		t.Fatal(err)
	}
	unmapped := objectOwner{FileOwner: FileOwner{65534, 65534}}
	uidOnly := objectOwner{FileOwner: FileOwner{0, 65534}, uidMapped: true}
	mapped := objectOwner{FileOwner: FileOwner{65534, 65534}, uidMapped: true, gidMapped: true}
	cases := []struct {
		name     string
		c        Creds
		o        objectOwner
		uid, gid uint32
		want     error
	}{
		{"root, unmapped owner, 0:0", Root(all), unmapped, 0, 0, unix.EPERM},
		{"root, unmapped owner, -1:0", Root(all), unmapped, NoID, 0, unix.EPERM},
		{"root, unmapped gid, uid to 1000", Root(all), uidOnly, 1000, NoID, unix.EPERM},
		{"root, unmapped gid, owner chgrp to own group", Root(all), uidOnly, NoID, 0, nil},
		{"root, unmapped gid, owner keeps its uid", Root(all), uidOnly, 0, NoID, nil},
		{"root, mapped", Root(all), mapped, 0, 0, nil},
		{"nobody, unmapped owner, to itself", nobody, unmapped, 65534, NoID, unix.EPERM},
		{"nobody, unmapped owner, group", nobody, unmapped, NoID, 65534, unix.EPERM},
		{"nobody, mapped nobody's file, to itself", nobody, mapped, 65534, 65534, nil},
	}
	for _, c := range cases {
		if got := c.c.chownAllowedOn(c.o, c.uid, c.gid); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	// In a plan: the owner's mapping comes from Env.Mapped, not from the
	// overflow id.
	m := &fakeMemory{base: base, buf: make([]byte, 4096)}
	_, out := Emulate(Root(all), call(unix.SYS_FCHOWNAT, fdcwd, base, 1000, 0, 0), m, fakeEnv{})
	step, _ := out.Plan.Next(0)
	statOwner(m, step.Args[2], 65534, 65534)
	if next, _ := out.Plan.Next(0); next == nil || next.Nr != unix.SYS_STATX {
		t.Fatalf("root's chown of an unmapped owner's file: step %+v, want the refusal's statx", next)
	}
	// To 0:0 (the namespace's root) the kernel decides by itself: the
	// real call, which it refuses on an unmapped owner.
	for _, c := range []struct {
		name     string
		creds    Creds
		uid, gid uint64
		kernel   bool
	}{
		{"root to 0:0", Root(all), 0, 0, true},
		{"root to 0:-1", Root(all), 0, uint64(NoID), true},
		{"root to -1:0", Root(all), uint64(NoID), 0, true},
		{"root to 0:1", Root(all), 0, 1, false},
		{"nobody to 0:0", nobody, 0, 0, false},
	} {
		_, out := Emulate(c.creds, call(unix.SYS_FCHOWNAT, fdcwd, base, c.uid, c.gid, 0), m, fakeEnv{})
		if ran := out.Kind == Run && out.Args[2] == c.uid && out.Args[3] == c.gid; ran != c.kernel {
			t.Errorf("%s: %+v, want the call to run as it is: %v", c.name, out, c.kernel)
		}
	}
}

// nnpEnv is fakeEnv with no_new_privs set.
type nnpEnv struct{ fakeEnv }

func (nnpEnv) NoNewPrivs() bool { return true }

// TestSeccompNeedsSysAdmin: loading a filter without CAP_SYS_ADMIN in the
// emulated effective set and without no_new_privs is EACCES, after the
// kernel's own checks of the flags, the struct sock_fprog and its length
// (issue 11, item 5).
func TestSeccompNeedsSysAdmin(t *testing.T) {
	all := AllCaps(40)
	noAdmin, err := Root(all).SetCaps(all&^(1<<capSysAdmin), all, 0)
	if err != nil {
		t.Fatal(err)
	}
	dropped, err := Root(all).SetRESUID(1000, 1000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	const prog = base + 64
	mem := func() *fakeMemory {
		m := &fakeMemory{base: base, buf: make([]byte, 256)}
		binary.LittleEndian.PutUint16(m.buf[64:], 1) // sock_fprog.len
		binary.LittleEndian.PutUint16(m.buf[80:], 0) // an empty one
		return m
	}
	filter := func(flags, p uint64) Call {
		return call(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, p)
	}
	const eacces, efault, einval = -int64(unix.EACCES), -int64(unix.EFAULT), -int64(unix.EINVAL)
	cases := []struct {
		name  string
		creds Creds
		env   Env
		call  Call
		run   bool  // the kernel runs it
		want  int64 // else the value returned
	}{
		{"root loads", Root(all), fakeEnv{}, filter(0, prog), true, 0},
		{"without CAP_SYS_ADMIN", noAdmin, fakeEnv{}, filter(0, prog), false, eacces},
		{"after a drop", dropped, fakeEnv{}, filter(0, prog), false, eacces},
		{"with no_new_privs", dropped, nnpEnv{}, filter(0, prog), true, 0},
		{"prctl without CAP_SYS_ADMIN", noAdmin, fakeEnv{},
			call(unix.SYS_PRCTL, unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, prog), false, eacces},
		{"prctl strict mode", noAdmin, fakeEnv{}, call(unix.SYS_PRCTL, unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_STRICT), true, 0},
		{"prctl with no_new_privs", noAdmin, nnpEnv{},
			call(unix.SYS_PRCTL, unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, prog), true, 0},
		{"bad pointer is EFAULT first", noAdmin, fakeEnv{}, filter(0, 8), false, efault},
		{"empty program is EINVAL first", noAdmin, fakeEnv{}, filter(0, base+80), false, einval},
		{"unknown flag is the kernel's EINVAL", noAdmin, fakeEnv{}, filter(1<<31, prog), true, 0},
		{"TSYNC with a listener needs TSYNC_ESRCH", noAdmin, fakeEnv{},
			filter(unix.SECCOMP_FILTER_FLAG_TSYNC|unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, prog), true, 0},
		{"strict mode needs nothing", noAdmin, fakeEnv{}, call(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_STRICT), true, 0},
	}
	for _, c := range cases {
		_, out := Emulate(c.creds, c.call, mem(), c.env)
		switch {
		case c.run && (out.Kind != Run || out.Args != c.call.Args):
			t.Errorf("%s: got %+v, want the call to run", c.name, out)
		case !c.run && (out.Kind != Return || out.Value != c.want):
			t.Errorf("%s: got %+v, want %d", c.name, out, c.want)
		}
	}
}
