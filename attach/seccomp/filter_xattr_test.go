package seccomp

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/shim"
)

var setxattrCalls = []uint32{unix.SYS_SETXATTR, unix.SYS_LSETXATTR, unix.SYS_FSETXATTR, unix.SYS_SETXATTRAT}

// setxattr stops in every mode (an ACL naming an unmapped id is emulated in
// mode creds too), always as a ptrace stop: its emulation runs steps. The
// getter filter, which a thread may get later as a filter of its own, has
// no exception for the stub's page and must not trace it.
func TestFilterSetxattrStopsInEveryMode(t *testing.T) {
	args := [6]uint64{0x1000, 0x2000, 0x3000, 28, 0}
	for _, f := range []Filter{SetterFilter, FullFilter, SetterFilter.WithNotify(), FullFilter.WithNotify(),
		SetterFilter.WithFiles(), FullFilter.WithFiles().WithNotify()} {
		for _, nr := range setxattrCalls {
			if got := runFilterData(t, f, seccompDataArgs(AuditArch, nr, args)); got != trace {
				t.Errorf("setxattr call %d with %+v: got %#x, want TRACE", nr, f, got)
			}
		}
	}
	for _, nr := range setxattrCalls {
		if got := runFilterData(t, GetterFilter, seccompDataArgs(AuditArch, nr, args)); got != allow {
			t.Errorf("setxattr call %d with the getter filter: got %#x, want ALLOW", nr, got)
		}
	}
	// Mode creds leaves the other xattr calls alone.
	for _, nr := range []uint32{unix.SYS_GETXATTR, unix.SYS_LGETXATTR, unix.SYS_FGETXATTR, unix.SYS_LISTXATTR,
		unix.SYS_REMOVEXATTR, unix.SYS_GETXATTRAT} {
		for _, f := range []Filter{SetterFilter, FullFilter, FullFilter.WithNotify()} {
			if got := runFilterData(t, f, seccompDataArgs(AuditArch, nr, args)); got != allow {
				t.Errorf("xattr call %d with %+v: got %#x, want ALLOW", nr, f, got)
			}
		}
	}
	for _, nr := range setxattrCalls {
		s, ok := shim.Lookup(uintptr(nr))
		if !ok || !s.NeedsStop() || s.Class != shim.Setter {
			t.Errorf("setxattr call %d: %+v, want a Setter that needs a stop", nr, s)
		}
	}
}
