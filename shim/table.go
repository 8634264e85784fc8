package shim

import (
	"strings"

	"golang.org/x/sys/unix"
)

// Class says when a system call must stop the tracee.
type Class int

const (
	// Setter calls change or depend on emulated credentials: they stop from
	// the moment a thread is traced.
	Setter Class = iota
	// Getter calls only report credentials: the kernel answers them right
	// until a thread's emulated credentials differ from its real ones.
	Getter
	// File calls report or create file ownership: they stop only in mode
	// full.
	File
)

func (c Class) String() string {
	switch c {
	case Getter:
		return "getter"
	case File:
		return "file"
	}
	return "setter"
}

// handler emulates one system call.
type handler func(c Creds, call Call, mem Memory, env Env) (Creds, Outcome)

// Syscall is one emulated system call: its number, name and class.
type Syscall struct {
	Nr    uintptr
	Name  string
	Class Class
	emu   handler
	// OnlyIf, when Mask is not 0, limits the stop to calls whose argument
	// Arg has one of the Mask bits (open with O_CREAT).
	OnlyIf ArgBits
}

// NeedsStop reports whether emulating the call may rewrite its arguments or
// make the thread run steps, which only a ptrace stop allows. The others
// are answered with a value alone (seccomp user notification can do that).
func (s Syscall) NeedsStop() bool {
	return s.Class == File || planCalls[s.Nr] || strings.HasSuffix(s.Name, "chown") || s.Name == "fchownat"
}

// planCalls are the Setter calls whose emulation may make the thread run
// steps in every mode: the set of an ACL xattr naming ids the namespace
// does not map (xattr_acl.go). Their name is in memory, where the filter
// cannot look, so every setxattr stops; setxattr is rare.
var planCalls = map[uintptr]bool{
	unix.SYS_SETXATTR: true, unix.SYS_LSETXATTR: true, unix.SYS_FSETXATTR: true, unix.SYS_SETXATTRAT: true,
}

// ChownIDs returns the index of the uid argument of a chown-family call
// (the gid follows it). A call with both ids -1 changes no owner and needs
// no emulation: the filter lets it through.
func (s Syscall) ChownIDs() (int, bool) {
	switch s.Name {
	case "chown", "lchown", "fchown":
		return 1, true
	case "fchownat":
		return 2, true
	}
	return 0, false
}

// ArgBits selects calls by bits of one argument: only calls with one of
// the Mask bits stop, or, with Unless, only calls with none of them.
type ArgBits struct {
	Arg    int
	Mask   uint32
	Unless bool
}

// EscalateMarker, in the sixth argument register of a notified call (see
// Notified), sends the call to the tracer as a ptrace stop instead of a
// notification: the supervisor sets it, through the tracer, on a call it
// cannot answer from the notification alone, and the kernel restarts the
// call. None of the notified calls has a sixth argument, so the value is
// ignored by the kernel; a program that happens to leave it there only
// makes its call stop.
const EscalateMarker = 0x72727363616c6174 // "rrscalat"

// Notified reports whether a seccomp notification can answer the call in
// its common case (mode full: a stat of a descriptor, a creation while the
// fs ids are 0:0), and for which calls: when rule.Mask is not 0, only those
// with one of its bits in argument rule.Arg; the others stop. The
// supervisor sends the calls it cannot answer back as ptrace stops (see
// EscalateMarker).
func (s Syscall) Notified() (rule ArgBits, ok bool) {
	if rule, ok = notifiedCalls[s.Nr]; !ok {
		rule, ok = archNotifiedCalls[s.Nr]
	}
	return rule, ok
}

// notifiedCalls are the File calls a notification may answer (see
// Notified); archNotifiedCalls (table_<arch>.go) adds the ones only some
// architectures have. statx is notified only with AT_EMPTY_PATH, a
// candidate for a stat of a descriptor; the supervisor checks the path.
// openat2 stays on ptrace: its flags are in memory.
var notifiedCalls = map[uintptr]ArgBits{
	unix.SYS_FSTAT:     {},
	unix.SYS_STATX:     {Arg: 2, Mask: unix.AT_EMPTY_PATH},
	unix.SYS_OPENAT:    {},
	unix.SYS_MKDIRAT:   {},
	unix.SYS_MKNODAT:   {},
	unix.SYS_SYMLINKAT: {},
}

// StatMarker is the flag a plan adds to the newfstatat it makes the thread
// repeat, so that the filter lets that call through without another stop.
// AT_STATX_FORCE_SYNC only matters on network filesystems, where it asks
// for attributes at least as fresh as a plain stat gets; no program passes
// it to newfstatat (it is a statx flag), and one that did would see the
// kernel's owners.
const StatMarker = unix.AT_STATX_FORCE_SYNC

// commonSyscalls are emulated on every architecture; archSyscalls (in
// table_<arch>.go) adds the ones only some architectures have.
var commonSyscalls = []Syscall{
	{unix.SYS_SETUID, "setuid", Setter, emuSetuid, ArgBits{}},
	{unix.SYS_SETGID, "setgid", Setter, emuSetgid, ArgBits{}},
	{unix.SYS_SETREUID, "setreuid", Setter, emuSetreuid, ArgBits{}},
	{unix.SYS_SETREGID, "setregid", Setter, emuSetregid, ArgBits{}},
	{unix.SYS_SETRESUID, "setresuid", Setter, emuSetresuid, ArgBits{}},
	{unix.SYS_SETRESGID, "setresgid", Setter, emuSetresgid, ArgBits{}},
	{unix.SYS_SETFSUID, "setfsuid", Setter, emuSetfsuid, ArgBits{}},
	{unix.SYS_SETFSGID, "setfsgid", Setter, emuSetfsgid, ArgBits{}},
	{unix.SYS_SETGROUPS, "setgroups", Setter, emuSetgroups, ArgBits{}},
	{unix.SYS_CAPSET, "capset", Setter, emuCapset, ArgBits{}},
	{unix.SYS_PRCTL, "prctl", Setter, emuPrctl, ArgBits{}},
	{unix.SYS_SECCOMP, "seccomp", Setter, emuSeccomp, ArgBits{0, unix.SECCOMP_SET_MODE_FILTER, false}},
	{unix.SYS_FCHOWN, "fchown", Setter, emuFchown, ArgBits{}},
	{unix.SYS_FCHOWNAT, "fchownat", Setter, emuFchownat, ArgBits{}},

	{unix.SYS_GETUID, "getuid", Getter, emuGetuid, ArgBits{}},
	{unix.SYS_GETEUID, "geteuid", Getter, emuGeteuid, ArgBits{}},
	{unix.SYS_GETGID, "getgid", Getter, emuGetgid, ArgBits{}},
	{unix.SYS_GETEGID, "getegid", Getter, emuGetegid, ArgBits{}},
	{unix.SYS_GETRESUID, "getresuid", Getter, emuGetresuid, ArgBits{}},
	{unix.SYS_GETRESGID, "getresgid", Getter, emuGetresgid, ArgBits{}},
	{unix.SYS_GETGROUPS, "getgroups", Getter, emuGetgroups, ArgBits{}},
	{unix.SYS_CAPGET, "capget", Getter, emuCapget, ArgBits{}},

	{unix.SYS_FSTAT, "fstat", File, emuFstat, ArgBits{}},
	{unix.SYS_STATX, "statx", File, emuStatx, ArgBits{}},
	{unix.SYS_GETXATTR, "getxattr", File, emuGetxattr, ArgBits{}},
	{unix.SYS_LGETXATTR, "lgetxattr", File, emuGetxattr, ArgBits{}},
	{unix.SYS_FGETXATTR, "fgetxattr", File, emuGetxattr, ArgBits{}},
	{unix.SYS_GETXATTRAT, "getxattrat", File, emuGetxattr, ArgBits{}},
	{unix.SYS_SETXATTR, "setxattr", Setter, emuSetxattr, ArgBits{}},
	{unix.SYS_LSETXATTR, "lsetxattr", Setter, emuSetxattr, ArgBits{}},
	{unix.SYS_FSETXATTR, "fsetxattr", Setter, emuSetxattr, ArgBits{}},
	{unix.SYS_SETXATTRAT, "setxattrat", Setter, emuSetxattr, ArgBits{}},
	{unix.SYS_REMOVEXATTR, "removexattr", File, emuRemovexattr, ArgBits{}},
	{unix.SYS_LREMOVEXATTR, "lremovexattr", File, emuRemovexattr, ArgBits{}},
	{unix.SYS_FREMOVEXATTR, "fremovexattr", File, emuRemovexattr, ArgBits{}},
	{unix.SYS_REMOVEXATTRAT, "removexattrat", File, emuRemovexattr, ArgBits{}},
	{unix.SYS_LISTXATTR, "listxattr", File, emuListxattr, ArgBits{}},
	{unix.SYS_LLISTXATTR, "llistxattr", File, emuListxattr, ArgBits{}},
	{unix.SYS_FLISTXATTR, "flistxattr", File, emuListxattr, ArgBits{}},
	{unix.SYS_LISTXATTRAT, "listxattrat", File, emuListxattr, ArgBits{}},
	{unix.SYS_OPENAT, "openat", File, emuOpenat, ArgBits{2, unix.O_CREAT, false}},
	{unix.SYS_OPENAT2, "openat2", File, emuOpenat2, ArgBits{}},
	{unix.SYS_MKDIRAT, "mkdirat", File, emuMkdirat, ArgBits{}},
	{unix.SYS_MKNODAT, "mknodat", File, emuMknodat, ArgBits{}},
	{unix.SYS_SYMLINKAT, "symlinkat", File, emuSymlinkat, ArgBits{}},
}

// PrctlOptions are the prctl options the model emulates, with their class;
// the seccomp filter stops prctl only for these.
var PrctlOptions = map[uint32]Class{
	unix.PR_SET_KEEPCAPS:   Setter,
	unix.PR_SET_SECUREBITS: Setter,
	unix.PR_GET_KEEPCAPS:   Getter,
	unix.PR_GET_SECUREBITS: Getter,
	unix.PR_CAP_AMBIENT:    Setter,
	unix.PR_CAPBSET_DROP:   Setter,
	unix.PR_CAPBSET_READ:   Getter,
	unix.PR_SET_SECCOMP:    Setter,
}

// InjectMarker, in argument register Arg of a call named by InjectedArg,
// marks a call the tracer itself has a traced thread make (the filters it
// installs: package attach/inject): the filter lets it through, so that the
// tracer, which holds its lock while it injects, is never asked about its
// own call. seccomp(2) has three arguments; the kernel ignores the others.
const InjectMarker = 0x72726a6563746564 // "rrjected"

// injectedArgs are the calls the tracer injects, with the argument that
// carries InjectMarker.
var injectedArgs = map[uintptr]int{unix.SYS_SECCOMP: 3}

// InjectedArg returns the argument register that carries InjectMarker
// when the tracer makes this call itself.
func (s Syscall) InjectedArg() (int, bool) {
	i, ok := injectedArgs[s.Nr]
	return i, ok
}

var byNr = func() map[uintptr]Syscall {
	m := make(map[uintptr]Syscall)
	for _, s := range append(append([]Syscall(nil), commonSyscalls...), archSyscalls...) {
		m[s.Nr] = s
	}
	return m
}()

// Syscalls lists every emulated system call of this architecture.
func Syscalls() []Syscall {
	return append(append([]Syscall(nil), commonSyscalls...), archSyscalls...)
}

// Lookup returns the emulated system call with number nr.
func Lookup(nr uintptr) (Syscall, bool) {
	s, ok := byNr[nr]
	return s, ok
}

// Emulate answers call for a thread with credentials c. It returns the
// thread's new credentials and what the tracer must do. A call the model
// does not know runs unchanged.
func Emulate(c Creds, call Call, mem Memory, env Env) (Creds, Outcome) {
	s, ok := byNr[call.Nr]
	if !ok {
		return c, run(call.Args)
	}
	return s.emu(c, call, mem, env)
}
