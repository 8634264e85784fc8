package shim

import (
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// groupMem is a Memory holding one group list at address 0x1000.
type groupMem []uint32

func (g groupMem) ReadAt(b []byte, addr uint64) error {
	if addr != 0x1000 || len(b) > 4*len(g) {
		return unix.EFAULT
	}
	for i := 0; i < len(b)/4; i++ {
		v := g[i]
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	return nil
}
func (g groupMem) WriteAt([]byte, uint64) error { return unix.EFAULT }

func TestRefusedByMapping(t *testing.T) {
	single := IDSpace{UIDMapped: func(id uint32) bool { return id == 0 }, GIDMapped: func(id uint32) bool { return id == 0 }, SetgroupsDenied: true}
	wide := IDSpace{UIDMapped: func(id uint32) bool { return id < 65536 }, GIDMapped: func(id uint32) bool { return id < 65536 }}
	call := func(nr uintptr, a ...uint64) Call {
		c := Call{Nr: nr}
		copy(c.Args[:], a)
		return c
	}
	cases := []struct {
		name  string
		call  Call
		mem   groupMem
		space IDSpace
		want  bool
	}{
		{"setresuid to root", call(unix.SYS_SETRESUID, 0, 0, 0), nil, single, false},
		{"setresuid to 1000", call(unix.SYS_SETRESUID, 1000, 1000, 1000), nil, single, true},
		{"setresuid -1 kept", call(unix.SYS_SETRESUID, uint64(NoID), 0, uint64(NoID)), nil, single, false},
		{"setreuid euid 42", call(unix.SYS_SETREUID, uint64(NoID), 42), nil, single, true},
		{"setgid 1000", call(unix.SYS_SETGID, 1000), nil, single, true},
		{"setgid 1000 mapped", call(unix.SYS_SETGID, 1000), nil, wide, false},
		{"setfsuid 1000", call(unix.SYS_SETFSUID, 1000), nil, single, true},
		{"setgroups denied", call(unix.SYS_SETGROUPS, 0, 0), nil, single, true},
		{"setgroups mapped", call(unix.SYS_SETGROUPS, 2, 0x1000), groupMem{1, 2}, wide, false},
		{"setgroups unmapped", call(unix.SYS_SETGROUPS, 2, 0x1000), groupMem{1, 70000}, wide, true},
		{"setgroups bad pointer: the kernel's error", call(unix.SYS_SETGROUPS, 2, 0x2000), nil, wide, false},
		{"setgroups negative size", call(unix.SYS_SETGROUPS, uint64(^uint32(0)), 0x1000), nil, wide, false},
		{"capset is not an id call", call(unix.SYS_CAPSET, 0, 0), nil, single, false},
		{"getuid", call(unix.SYS_GETUID), nil, single, false},
	}
	for _, c := range cases {
		if got := RefusedByMapping(c.call, c.mem, c.space); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestWithIdentityThenExec(t *testing.T) {
	bounding := CapSet(0x800405fb)
	// What the kernel gave the runtime's root at execve (root rule).
	real := Creds{Groups: []uint32{0}, Caps: CapSets{Effective: bounding, Permitted: bounding, Bounding: bounding}}
	plain := ExecFile{}
	cases := []struct {
		name   string
		id     Identity
		file   ExecFile
		amb    CapSet
		wantP  CapSet
		groups []uint32
		euid   uint32
	}{
		{"user", Identity{1000, 1000, []uint32{1000}}, plain, 0, 0, []uint32{1000}, 1000},
		{"user groups sorted", Identity{1000, 1000, []uint32{27, 1000, 27}}, plain, 0, 0, []uint32{27, 1000}, 1000},
		{"user with ambient (CAP_NET_BIND_SERVICE)", Identity{1000, 1000, nil}, plain, 1 << 10, 1 << 10, nil, 1000},
		{"root with a group", Identity{0, 1000, []uint32{10}}, plain, 0, bounding, []uint32{10}, 0},
		{"set-user-ID root program", Identity{1000, 1000, nil}, ExecFile{SetUID: true, UID: 0}, 0, bounding, nil, 0},
	}
	for _, c := range cases {
		r := real
		r.Caps.Ambient = c.amb
		r.Caps.Inheritable = c.amb
		pre := WithIdentity(r, c.id)
		got := pre.Exec(c.file)
		if got.Caps.Permitted != c.wantP || got.EUID != c.euid || got.UID != c.id.UID || got.GID != c.id.GID ||
			!slices.Equal(got.Groups, c.groups) || got.Caps.Bounding != bounding {
			t.Errorf("%s: %v", c.name, got)
		}
		if c.euid != 0 && got.Caps.Effective != c.amb {
			t.Errorf("%s: effective %#x, want ambient %#x", c.name, got.Caps.Effective, c.amb)
		}
	}
}
