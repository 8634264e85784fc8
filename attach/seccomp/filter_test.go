package seccomp

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/shim"
)

// seccompData builds a struct seccomp_data for the test VM. The x/net/bpf VM
// loads words big-endian, as packets are; the kernel loads them in host
// order. Writing each 32-bit field big-endian here makes the VM read the
// values the kernel would read from the little-endian struct, at the same
// offsets (arg0's low word at 16).
func seccompData(arch uint32, nr uint32, arg0 uint64) []byte {
	return seccompDataArgs(arch, nr, [6]uint64{arg0})
}

func seccompDataArgs(arch uint32, nr uint32, args [6]uint64) []byte {
	b := make([]byte, 64)
	binary.BigEndian.PutUint32(b[seccompNr:], nr)
	binary.BigEndian.PutUint32(b[seccompArch:], arch)
	for i, a := range args {
		binary.BigEndian.PutUint32(b[seccompArg0+8*i:], uint32(a))
		binary.BigEndian.PutUint32(b[seccompArg0+8*i+4:], uint32(a>>32))
	}
	return b
}

// runFilterArg runs f on a native call nr whose argument i is v.
func runFilterArg(t *testing.T, f Filter, nr uint32, i int, v uint64) uint32 {
	t.Helper()
	var args [6]uint64
	args[i] = v
	return runFilterData(t, f, seccompDataArgs(AuditArch, nr, args))
}

func runFilter(t *testing.T, f Filter, arch, nr uint32, arg0 uint64) uint32 {
	t.Helper()
	return runFilterData(t, f, seccompData(arch, nr, arg0))
}

func runFilterData(t *testing.T, f Filter, data []byte) uint32 {
	t.Helper()
	raw, err := f.Program()
	if err != nil {
		t.Fatal(err)
	}
	out, err := vmFor(t, raw).Run(data)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(out)
}

// vmFor loads raw into the test VM.
func vmFor(t *testing.T, raw []bpf.RawInstruction) *bpf.VM {
	t.Helper()
	// Round-trip through the kernel's byte layout so the VM runs exactly
	// what would be loaded.
	enc := Encode(raw)
	back := make([]bpf.RawInstruction, len(enc)/8)
	for i := range back {
		back[i] = bpf.RawInstruction{
			Op: binary.LittleEndian.Uint16(enc[8*i:]), Jt: enc[8*i+2], Jf: enc[8*i+3],
			K: binary.LittleEndian.Uint32(enc[8*i+4:]),
		}
	}
	insns, ok := bpf.Disassemble(back)
	if !ok {
		t.Fatalf("program does not disassemble: %v", back)
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatalf("VM refuses program: %v", err)
	}
	return vm
}

const (
	allow = unix.SECCOMP_RET_ALLOW
	trace = unix.SECCOMP_RET_TRACE
)

func TestFilterTracesEachClassOnly(t *testing.T) {
	filters := []Filter{SetterFilter, GetterFilter, FullFilter, SetterFilter.WithFiles(), FullFilter.WithFiles()}
	for _, s := range shim.Syscalls() {
		if s.Nr == unix.SYS_PRCTL {
			continue
		}
		for _, f := range filters {
			want := uint32(allow)
			if f.wants(s.Class) {
				want = trace
			}
			arg := uint64(0)
			if s.OnlyIf.Mask != 0 {
				// The selecting bits present (absent with Unless) stop the
				// call; the other way, it is allowed.
				other, chosen := uint64(0), uint64(s.OnlyIf.Mask)
				if s.OnlyIf.Unless {
					other, chosen = chosen, other
				}
				if got := runFilterArg(t, f, uint32(s.Nr), s.OnlyIf.Arg, other); got != allow {
					t.Errorf("%s with arg %#x, %+v: got %#x, want ALLOW", s.Name, other, f, got)
				}
				arg = chosen
			}
			if got := runFilterArg(t, f, uint32(s.Nr), s.OnlyIf.Arg, arg); got != want {
				t.Errorf("%s with %+v: got %#x, want %#x", s.Name, f, got, want)
			}
		}
	}
}

func TestFilterOpenOnlyWithOCreat(t *testing.T) {
	f := SetterFilter.WithFiles()
	for _, c := range []struct {
		flags uint64
		want  uint32
	}{
		{unix.O_RDONLY, allow},
		{unix.O_WRONLY | unix.O_TRUNC, allow},
		{unix.O_WRONLY | unix.O_CREAT, trace},
		{unix.O_RDWR | unix.O_CREAT | unix.O_EXCL | unix.O_CLOEXEC, trace},
	} {
		if got := runFilterArg(t, f, unix.SYS_OPENAT, 2, c.flags); got != c.want {
			t.Errorf("openat flags %#o: got %#x, want %#x", c.flags, got, c.want)
		}
	}
	// Mode creds does not stop open at all.
	if got := runFilterArg(t, FullFilter, unix.SYS_OPENAT, 2, unix.O_CREAT); got != allow {
		t.Errorf("openat(O_CREAT) without Files: got %#x, want ALLOW", got)
	}
}

func TestFilterAllowsEverythingElse(t *testing.T) {
	for _, nr := range []uint32{unix.SYS_READ, unix.SYS_WRITE, unix.SYS_OPENAT, unix.SYS_CLONE,
		unix.SYS_EXECVE, unix.SYS_NEWFSTATAT, unix.SYS_SECCOMP, 0, 450} {
		for _, f := range []Filter{SetterFilter, GetterFilter, FullFilter} {
			if got := runFilter(t, f, AuditArch, nr, 0); got != allow {
				t.Errorf("syscall %d with %+v: got %#x, want ALLOW", nr, f, got)
			}
		}
	}
}

func TestFilterPrctlOptions(t *testing.T) {
	cases := []struct {
		opt  uint64
		f    Filter
		want uint32
	}{
		{unix.PR_SET_KEEPCAPS, SetterFilter, trace},
		{unix.PR_SET_SECUREBITS, SetterFilter, trace},
		{unix.PR_GET_KEEPCAPS, SetterFilter, allow},
		{unix.PR_GET_KEEPCAPS, GetterFilter, trace},
		{unix.PR_GET_SECUREBITS, GetterFilter, trace},
		{unix.PR_SET_KEEPCAPS, GetterFilter, allow},
		{unix.PR_SET_NAME, FullFilter, allow},
		{unix.PR_SET_NO_NEW_PRIVS, FullFilter, allow},
		// The option is an int: high bits do not make it another option.
		{1<<32 | unix.PR_SET_KEEPCAPS, SetterFilter, trace},
	}
	for _, c := range cases {
		if got := runFilter(t, c.f, AuditArch, unix.SYS_PRCTL, c.opt); got != c.want {
			t.Errorf("prctl(%#x) with %+v: got %#x, want %#x", c.opt, c.f, got, c.want)
		}
	}
}

func TestFilterOtherArchitectureAllowed(t *testing.T) {
	// An i386 setuid32 (213) or any call from another ABI is not emulated.
	if got := runFilter(t, FullFilter, unix.AUDIT_ARCH_I386, unix.SYS_SETRESUID, 0); got != allow {
		t.Errorf("foreign arch: got %#x, want ALLOW", got)
	}
}

func TestFilterRejectsX32(t *testing.T) {
	if X32SyscallBit == 0 {
		t.Skip("no x32 ABI on this architecture")
	}
	want := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS))
	for _, nr := range []uint32{X32SyscallBit | unix.SYS_SETRESUID, X32SyscallBit | unix.SYS_READ} {
		if got := runFilter(t, SetterFilter, AuditArch, nr, 0); got != want {
			t.Errorf("x32 call %#x: got %#x, want ERRNO(ENOSYS)", nr, got)
		}
	}
}

func TestFilterNotifyOnlyValueAnsweredCalls(t *testing.T) {
	const notify = unix.SECCOMP_RET_USER_NOTIF
	for _, f := range []Filter{SetterFilter.WithNotify(), SetterFilter.WithFiles().WithNotify()} {
		if !f.Getters {
			t.Fatalf("%+v: a notifying filter must include the getters", f)
		}
		for _, s := range shim.Syscalls() {
			if s.Nr == unix.SYS_PRCTL || !f.wants(s.Class) {
				continue
			}
			arg := uint64(s.OnlyIf.Mask)
			if s.OnlyIf.Unless {
				arg = 0
			}
			want := uint32(notify)
			if rule, ok := s.Notified(); ok && rule.Mask != 0 {
				want = trace // without the rule's bits (see TestFilterNotifiedFileCalls)
			} else if s.NeedsStop() && !ok {
				want = trace
			}
			if got := runFilterArg(t, f, uint32(s.Nr), s.OnlyIf.Arg, arg); got != want {
				t.Errorf("%s with %+v: got %#x, want %#x", s.Name, f, got, want)
			}
		}
		if got := runFilterArg(t, f, unix.SYS_PRCTL, 0, unix.PR_SET_KEEPCAPS); got != notify {
			t.Errorf("prctl(PR_SET_KEEPCAPS) with %+v: got %#x, want USER_NOTIF", f, got)
		}
		if got := runFilterArg(t, f, unix.SYS_PRCTL, 0, unix.PR_SET_NAME); got != allow {
			t.Errorf("prctl(PR_SET_NAME) with %+v: got %#x, want ALLOW", f, got)
		}
	}
	for _, name := range []string{"chown", "fchown", "lchown", "fchownat", "newfstatat", "getxattr"} {
		found := false
		for _, s := range shim.Syscalls() {
			if s.Name == name {
				found = true
				if !s.NeedsStop() {
					t.Errorf("%s must stop: its emulation rewrites arguments or runs steps", name)
				}
			}
		}
		if !found && name != "chown" && name != "lchown" {
			t.Errorf("%s missing from the table", name)
		}
	}
}

func TestFilterLetsNoopChownThrough(t *testing.T) {
	const none = uint64(0xFFFFFFFF)
	for _, c := range []struct {
		uid, gid uint64
		want     uint32
	}{
		{none, none, allow},
		{none | 1<<32, none | 7<<40, allow}, // uid_t is 32 bits
		{none, 5, trace},
		{5, none, trace},
		{0, 0, trace},
	} {
		var args [6]uint64
		args[2], args[3] = c.uid, c.gid
		got := runFilterData(t, SetterFilter.WithFiles(), seccompDataArgs(AuditArch, unix.SYS_FCHOWNAT, args))
		if got != c.want {
			t.Errorf("fchownat(%#x, %#x): got %#x, want %#x", c.uid, c.gid, got, c.want)
		}
	}
}

// Mode full's descriptor stats and creations go to the listener; with
// shim.EscalateMarker in their sixth argument (the supervisor's way back to
// a ptrace stop) they stop; without a listener they always stop.
func TestFilterNotifiedFileCalls(t *testing.T) {
	const notify = unix.SECCOMP_RET_USER_NOTIF
	f := SetterFilter.WithFiles().WithNotify()
	type call = filterCase
	atEmpty, marker := uint64(unix.AT_EMPTY_PATH), uint64(shim.EscalateMarker)
	calls := []call{
		{"statx AT_EMPTY_PATH", unix.SYS_STATX, [6]uint64{3, 0, atEmpty}, notify},
		{"statx path", unix.SYS_STATX, [6]uint64{3, 0, 0}, trace},
		{"statx AT_EMPTY_PATH escalated", unix.SYS_STATX, [6]uint64{3, 0, atEmpty, 0, 0, marker}, trace},
		{"statx marker low half only", unix.SYS_STATX, [6]uint64{3, 0, atEmpty, 0, 0, marker & 0xffffffff}, notify},
		{"statx marker high half only", unix.SYS_STATX, [6]uint64{3, 0, atEmpty, 0, 0, marker &^ 0xffffffff}, notify},
		{"fstat", unix.SYS_FSTAT, [6]uint64{3}, notify},
		{"fstat escalated", unix.SYS_FSTAT, [6]uint64{3, 0, 0, 0, 0, marker}, trace},
		{"openat O_RDONLY", unix.SYS_OPENAT, [6]uint64{3, 0, unix.O_RDONLY}, allow},
		{"openat O_RDONLY marker", unix.SYS_OPENAT, [6]uint64{3, 0, unix.O_RDONLY, 0, 0, marker}, allow},
		{"openat O_CREAT", unix.SYS_OPENAT, [6]uint64{3, 0, unix.O_CREAT | unix.O_WRONLY}, notify},
		{"openat O_CREAT escalated", unix.SYS_OPENAT, [6]uint64{3, 0, unix.O_CREAT, 0, 0, marker}, trace},
		{"mkdirat", unix.SYS_MKDIRAT, [6]uint64{3, 0, 0o755}, notify},
		{"symlinkat escalated", unix.SYS_SYMLINKAT, [6]uint64{0, 3, 0, 0, 0, marker}, trace},
		{"openat2", unix.SYS_OPENAT2, [6]uint64{3, 0, 0, 24}, trace},
	}
	calls = append(calls, archNotifiedCases(atEmpty, marker)...)
	for _, c := range calls {
		if got := runFilterData(t, f, seccompDataArgs(AuditArch, c.nr, c.args)); got != c.want {
			t.Errorf("%s with a listener: got %#x, want %#x", c.name, got, c.want)
		}
		want := c.want
		if want == notify {
			want = trace
		}
		if got := runFilterData(t, SetterFilter.WithFiles(), seccompDataArgs(AuditArch, c.nr, c.args)); got != want {
			t.Errorf("%s without a listener: got %#x, want %#x", c.name, got, want)
		}
	}
}

// filterCase is one call and the action a filter must return for it.
type filterCase struct {
	name string
	nr   uint32
	args [6]uint64
	want uint32
}

// TestFilterSeccompFilterCalls: loading a filter is decided by the model
// (CAP_SYS_ADMIN or no_new_privs), except the tracer's own injected calls,
// which carry shim.InjectMarker and must never reach the tracer: it holds
// its lock while it injects them.
func TestFilterSeccompFilterCalls(t *testing.T) {
	const notify = unix.SECCOMP_RET_USER_NOTIF
	mark := uint64(shim.InjectMarker)
	cases := []struct {
		f    Filter
		args [6]uint64
		want uint32
	}{
		{SetterFilter, [6]uint64{unix.SECCOMP_SET_MODE_FILTER, 0, 0x1000}, trace},
		{SetterFilter.WithNotify(), [6]uint64{unix.SECCOMP_SET_MODE_FILTER, 0, 0x1000}, notify},
		{FullFilter.WithFiles(), [6]uint64{unix.SECCOMP_SET_MODE_FILTER, 8, 0x1000}, trace},
		{SetterFilter.WithFiles().WithNotify(), [6]uint64{unix.SECCOMP_SET_MODE_FILTER, 0, 0x1000}, notify},
		{SetterFilter, [6]uint64{unix.SECCOMP_SET_MODE_FILTER, 0, 0x1000, mark}, allow},
		{SetterFilter.WithNotify(), [6]uint64{unix.SECCOMP_SET_MODE_FILTER, 0, 0x1000, mark}, allow},
		{SetterFilter.WithFiles().WithNotify(), [6]uint64{unix.SECCOMP_SET_MODE_FILTER, 0x38, 0x1000, mark}, allow},
		// Half a marker is no marker.
		{SetterFilter, [6]uint64{unix.SECCOMP_SET_MODE_FILTER, 0, 0x1000, mark & 0xffffffff}, trace},
		{SetterFilter, [6]uint64{unix.SECCOMP_SET_MODE_FILTER, 0, 0x1000, mark &^ 0xffffffff}, trace},
		{SetterFilter, [6]uint64{unix.SECCOMP_SET_MODE_FILTER, 0, 0x1000, 0, mark}, trace},
		// Strict mode and the queries need no privilege.
		{SetterFilter, [6]uint64{unix.SECCOMP_SET_MODE_STRICT}, allow},
		{SetterFilter.WithNotify(), [6]uint64{unix.SECCOMP_GET_ACTION_AVAIL, 0, 0x1000}, allow},
		{GetterFilter, [6]uint64{unix.SECCOMP_SET_MODE_FILTER, 0, 0x1000}, allow},
	}
	for _, c := range cases {
		if got := runFilterData(t, c.f, seccompDataArgs(AuditArch, unix.SYS_SECCOMP, c.args)); got != c.want {
			t.Errorf("seccomp%#x with %+v: got %#x, want %#x", c.args, c.f, got, c.want)
		}
	}
	if got := runFilterArg(t, SetterFilter, unix.SYS_PRCTL, 0, unix.PR_SET_SECCOMP); got != trace {
		t.Errorf("prctl(PR_SET_SECCOMP): got %#x, want TRACE", got)
	}
	if got := runFilterArg(t, SetterFilter.WithNotify(), unix.SYS_PRCTL, 0, unix.PR_SET_SECCOMP); got != notify {
		t.Errorf("prctl(PR_SET_SECCOMP) notifying: got %#x, want USER_NOTIF", got)
	}
}
