package seccomp

import (
	"slices"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/shim"
)

// RuntimeNotifiedCalls names the system calls that a container runtime's
// own seccomp filter sends to remainroot's listener (runtime-spec
// linux.seccomp.listenerPath, action SCMP_ACT_NOTIFY): the credential calls
// that a value answers, with no condition on their arguments, so that the
// rule is plain OCI seccomp. What else remainroot emulates (prctl's
// credential options, the chown family, mode full's file calls) stops at
// the filter the tracer adds when it takes the process over
// (Session.AdoptListener): the runtime's SCMP_ACT_NOTIFY takes precedence
// over that filter's SECCOMP_RET_TRACE, which in turn takes precedence over
// the runtime's SCMP_ACT_ALLOW.
//
// seccomp(2) is never among them: the tracer installs its own filter with
// an injected seccomp(2) while it holds the process, and a notification of
// that call would wait for the tracer itself.
func RuntimeNotifiedCalls() []string {
	var names []string
	for _, s := range shim.Syscalls() {
		if s.Class == shim.File || s.NeedsStop() || s.OnlyIf.Mask != 0 ||
			s.Nr == unix.SYS_PRCTL || s.Nr == unix.SYS_SECCOMP {
			continue
		}
		if _, conditional := s.Notified(); conditional {
			continue
		}
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}

// LazyRuntimeNotifiedCalls names the calls a container runtime's filter
// sends to the listener of a lazy trace (mode creds, Options.Lazy): every
// emulated call of mode creds but seccomp(2), prctl whatever its option
// (a plain rule cannot look at the option; the supervisor lets the
// others run), and the chown and setxattr families whatever their
// arguments. A process of a lazy trace is attached only while it needs
// it, so the runtime's listener must be the way every one of its emulated
// calls reaches remainroot: a ptrace-only rule would fail with ENOSYS in
// a thread that has no tracer.
func LazyRuntimeNotifiedCalls() []string {
	var names []string
	for _, s := range shim.Syscalls() {
		if s.Class == shim.File || s.Nr == unix.SYS_SECCOMP {
			continue
		}
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}
