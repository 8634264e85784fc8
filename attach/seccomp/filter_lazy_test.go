package seccomp

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/shim"
)

// A lazy filter must never answer RET_TRACE: its threads have no tracer,
// and a traced call without one fails with ENOSYS. Every emulated call of
// mode creds is notified instead, but for the chown that changes no owner
// and the tracer's own injected seccomp(2).
func TestLazyFilterNotifiesWhatOthersTrace(t *testing.T) {
	lazy := SetterFilter.WithNotify().WithLazy()
	const (
		allow  = unix.SECCOMP_RET_ALLOW
		notify = unix.SECCOMP_RET_USER_NOTIF
	)
	for _, s := range shim.Syscalls() {
		if s.Class == shim.File || s.Nr == unix.SYS_PRCTL || s.Nr == unix.SYS_SECCOMP {
			continue
		}
		var args [6]uint64
		if i, ok := s.ChownIDs(); ok {
			args[i] = 1000
		}
		if got := runFilterData(t, lazy, seccompDataArgs(AuditArch, uint32(s.Nr), args)); got != notify {
			t.Errorf("%s: got %#x, want SECCOMP_RET_USER_NOTIF", s.Name, got)
		}
		if i, ok := s.ChownIDs(); ok {
			args[i], args[i+1] = uint64(shim.NoID), uint64(shim.NoID)
			if got := runFilterData(t, lazy, seccompDataArgs(AuditArch, uint32(s.Nr), args)); got != allow {
				t.Errorf("%s(-1, -1): got %#x, want SECCOMP_RET_ALLOW", s.Name, got)
			}
		}
	}
	for opt := range shim.PrctlOptions {
		if got := runFilter(t, lazy, AuditArch, unix.SYS_PRCTL, uint64(opt)); got != notify {
			t.Errorf("prctl(%d): got %#x, want SECCOMP_RET_USER_NOTIF", opt, got)
		}
	}
	if got := runFilter(t, lazy, AuditArch, unix.SYS_PRCTL, unix.PR_SET_NAME); got != allow {
		t.Errorf("prctl(PR_SET_NAME): got %#x, want SECCOMP_RET_ALLOW", got)
	}
	var args [6]uint64
	args[0] = unix.SECCOMP_SET_MODE_FILTER
	if got := runFilterData(t, lazy, seccompDataArgs(AuditArch, unix.SYS_SECCOMP, args)); got != notify {
		t.Errorf("seccomp(SET_MODE_FILTER): got %#x, want SECCOMP_RET_USER_NOTIF", got)
	}
	args[3] = shim.InjectMarker
	if got := runFilterData(t, lazy, seccompDataArgs(AuditArch, unix.SYS_SECCOMP, args)); got != allow {
		t.Errorf("the tracer's own seccomp(2): got %#x, want SECCOMP_RET_ALLOW", got)
	}
	for _, nr := range []uint32{unix.SYS_READ, unix.SYS_CLONE, unix.SYS_EXECVE, unix.SYS_FSTAT} {
		if got := runFilter(t, lazy, AuditArch, nr, 0); got != allow {
			t.Errorf("call %d: got %#x, want SECCOMP_RET_ALLOW", nr, got)
		}
	}
}

// The filters that are not lazy keep the chown family on ptrace stops.
func TestNonLazyFilterTracesChown(t *testing.T) {
	var args [6]uint64
	args[1] = 1000
	if got := runFilterData(t, SetterFilter.WithNotify(), seccompDataArgs(AuditArch, unix.SYS_FCHOWN, args)); got != unix.SECCOMP_RET_TRACE {
		t.Errorf("fchown: got %#x, want SECCOMP_RET_TRACE", got)
	}
}

func TestLazyFilterRefusesModeFull(t *testing.T) {
	if _, err := SetterFilter.WithNotify().WithLazy().WithFiles().Program(); err == nil {
		t.Error("a lazy filter with mode full's file calls was built")
	}
}

// The runtime's filter of a lazy trace notifies every emulated call of
// mode creds but seccomp(2); the other list keeps to the value-answered.
func TestLazyRuntimeNotifiedCalls(t *testing.T) {
	lazy := LazyRuntimeNotifiedCalls()
	has := func(list []string, name string) bool {
		for _, n := range list {
			if n == name {
				return true
			}
		}
		return false
	}
	for _, name := range []string{"setuid", "getuid", "setgroups", "capset", "prctl", "chown", "fchownat", "setxattr"} {
		if !has(lazy, name) {
			t.Errorf("LazyRuntimeNotifiedCalls lacks %s", name)
		}
	}
	for _, name := range []string{"seccomp", "fstat", "openat"} {
		if has(lazy, name) {
			t.Errorf("LazyRuntimeNotifiedCalls has %s", name)
		}
	}
	for _, name := range []string{"prctl", "chown", "fchownat"} {
		if has(RuntimeNotifiedCalls(), name) {
			t.Errorf("RuntimeNotifiedCalls has %s", name)
		}
	}
}

// The in-process route's base filter notifies every call mode full
// routes (its stats reach it only where the layer is missing) and the
// execs, and traces none.
func TestInProcessFilterNotifies(t *testing.T) {
	f := SetterFilter.WithInProcess()
	raw, err := f.Program()
	if err != nil {
		t.Fatal(err)
	}
	vm := vmFor(t, raw)
	for _, nr := range []uint32{unix.SYS_EXECVE, unix.SYS_EXECVEAT, unix.SYS_SETUID, unix.SYS_GETUID, unix.SYS_FCHOWNAT} {
		got, err := vm.Run(seccompDataArgs(AuditArch, nr, [6]uint64{}))
		if err != nil {
			t.Fatal(err)
		}
		if uint32(got) != unix.SECCOMP_RET_USER_NOTIF {
			t.Errorf("call %d: %#x, want a notification", nr, got)
		}
	}
	if _, err := (Filter{Setters: true, InProcess: true}).Program(); err == nil {
		t.Error("an in-process filter that is not lazy and notifying was built")
	}
	if _, err := SetterFilter.WithNotify().WithLazy().WithFiles().Program(); err == nil {
		t.Error("a lazy filter with mode full's calls and no in-process route was built")
	}
}
