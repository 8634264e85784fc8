package seccomp

import (
	"testing"

	"golang.org/x/sys/unix"
)

// A layer as the in-process route builds it: the handler's code in the
// 4 GiB block after the stub's.
var testLayer = Layer{Traps: []Trap{{unix.SYS_NEWFSTATAT, -1}, {unix.SYS_FSTAT, -1}, {unix.SYS_STATX, -1},
	{unix.SYS_RT_SIGPROCMASK, 1}},
	CodeAddr: 0x3e3f00000000, CodeSize: 4096, Data: 0x5252,
	Also: []CodeRange{{0x3e3e00000000, 4096}}, Markers: []uint64{0x72726a6563746564, 0x72727363616c6174}}

// The layer traps its calls outside the handler's code, lets them run
// inside it (the asking one too: the process's own filter notifies it),
// and allows everything else from anywhere.
func TestLayerVerdicts(t *testing.T) {
	raw, err := testLayer.Program()
	if err != nil {
		t.Fatal(err)
	}
	vm := vmFor(t, raw)
	trap := uint32(unix.SECCOMP_RET_TRAP | 0x5252)
	for _, tc := range []struct {
		name string
		arch uint32
		nr   uint32
		ip   uint64
		want uint32
	}{
		{"trapped from a program", AuditArch, unix.SYS_NEWFSTATAT, 0x7f0000001234, trap},
		{"trapped, same low word in another block", AuditArch, unix.SYS_FSTAT, 0x3e4000000100, trap},
		{"trapped, just past the code", AuditArch, unix.SYS_STATX, 0x3e3f00001000, trap},
		{"trapped, in the block below the code", AuditArch, unix.SYS_STATX, 0x3e3effffffff, trap},
		{"from the handler", AuditArch, unix.SYS_NEWFSTATAT, 0x3e3f00000081, allow},
		{"from the handler's last byte", AuditArch, unix.SYS_STATX, 0x3e3f00000fff, allow},
		{"asked: the process's filter's to notify", AuditArch, unix.SYS_NEWFSTATAT, 0x3e3f00000019, allow},
		{"another call from a program", AuditArch, unix.SYS_OPENAT, 0x7f0000001234, allow},
		{"another call at the asking address", AuditArch, unix.SYS_GETPID, 0x3e3f00000019, allow},
		{"another architecture", unix.AUDIT_ARCH_I386, unix.SYS_NEWFSTATAT, 0x1234, allow},
		{"from the stub's page", AuditArch, unix.SYS_NEWFSTATAT, 0x3e3e00000040, allow},
		{"past the stub's page", AuditArch, unix.SYS_NEWFSTATAT, 0x3e3e00001000, trap},
		{"conditional, argument 0", AuditArch, unix.SYS_RT_SIGPROCMASK, 0x7f0000001234, allow},
	} {
		got, err := vm.Run(seccompDataAt(tc.arch, tc.nr, tc.ip, [6]uint64{}))
		if err != nil {
			t.Fatal(err)
		}
		if uint32(got) != tc.want {
			t.Errorf("%s: %#x, want %#x", tc.name, got, tc.want)
		}
	}
}

// A trapped call carrying a marker in its sixth argument runs, from
// anywhere, the asking address too; half a marker does not.
func TestLayerMarkers(t *testing.T) {
	raw, err := testLayer.Program()
	if err != nil {
		t.Fatal(err)
	}
	vm := vmFor(t, raw)
	trap := uint32(unix.SECCOMP_RET_TRAP | 0x5252)
	for _, tc := range []struct {
		arg5 uint64
		ip   uint64
		want uint32
	}{
		{0x72726a6563746564, 0x7f0000001234, allow},
		{0x72727363616c6174, 0x7f0000001234, allow},
		{0x72727363616c6174, 0x3e3f00000100, allow},
		{0x72726a6563746564 &^ 0xffffffff, 0x7f0000001234, trap},
		{0x72726a6563746564 & 0xffffffff, 0x7f0000001234, trap},
		{0x0000000063746564 | 0x72727363<<32, 0x7f0000001234, trap},
		{0, 0x3e3f00000019, allow},
	} {
		got, err := vm.Run(seccompDataAt(AuditArch, unix.SYS_NEWFSTATAT, tc.ip, [6]uint64{0, 0, 0, 0, 0, tc.arg5}))
		if err != nil {
			t.Fatal(err)
		}
		if uint32(got) != tc.want {
			t.Errorf("marker %#x from %#x: %#x, want %#x", tc.arg5, tc.ip, got, tc.want)
		}
	}
}

// A conditional trap traps when its argument is not 0, in either word,
// and lets the handler's own call through.
func TestLayerConditionalTrap(t *testing.T) {
	raw, err := testLayer.Program()
	if err != nil {
		t.Fatal(err)
	}
	vm := vmFor(t, raw)
	for _, tc := range []struct {
		arg  uint64
		ip   uint64
		want uint32
	}{
		{0, 0x7f0000001234, allow},
		{0x7ffc00001000, 0x7f0000001234, unix.SECCOMP_RET_TRAP | 0x5252},
		{0x100000000, 0x7f0000001234, unix.SECCOMP_RET_TRAP | 0x5252},
		{0x1000, 0x7f0000001234, unix.SECCOMP_RET_TRAP | 0x5252},
		{0x7ffc00001000, 0x3e3f00000100, allow},
		{0x7ffc00001000, 0x3e3f00000019, allow},
	} {
		got, err := vm.Run(seccompDataAt(AuditArch, unix.SYS_RT_SIGPROCMASK, tc.ip, [6]uint64{2, tc.arg}))
		if err != nil {
			t.Fatal(err)
		}
		if uint32(got) != tc.want {
			t.Errorf("set %#x from %#x: %#x, want %#x", tc.arg, tc.ip, got, tc.want)
		}
	}
}

// Every call the layer does not trap is allowed knowing only its number:
// the kernel's allow cache keeps it out of the program.
func TestLayerConstAllow(t *testing.T) {
	raw, err := testLayer.Program()
	if err != nil {
		t.Fatal(err)
	}
	trapped := map[uint32]bool{}
	for _, t := range testLayer.Traps {
		trapped[t.Nr] = true
	}
	for nr := uint32(0); nr < 512; nr++ {
		if got := constAllow(raw, AuditArch, nr); got == trapped[nr] {
			t.Errorf("call %d: allowed by number alone %v, trapped %v", nr, got, trapped[nr])
		}
	}
}

// A layer whose code block or asking address is out of shape is refused.
func TestLayerRefusesBadShape(t *testing.T) {
	for name, l := range map[string]Layer{
		"code not at a 4 GiB boundary": {Traps: []Trap{{1, -1}}, CodeAddr: 0x3e3f00001000, CodeSize: 4096},
		"no code":                      {Traps: []Trap{{1, -1}}, CodeAddr: 0x3e3f00000000},
		"nothing trapped":              {CodeAddr: 0x3e3f00000000, CodeSize: 4096},
		"a call twice":                 {Traps: []Trap{{1, -1}, {1, 2}}, CodeAddr: 0x3e3f00000000, CodeSize: 4096},
		"no such argument":             {Traps: []Trap{{1, 6}}, CodeAddr: 0x3e3f00000000, CodeSize: 4096},
	} {
		if _, err := l.Program(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
