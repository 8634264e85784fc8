package shim

import "golang.org/x/sys/unix"

// Class says when a system call must stop the tracee.
type Class int

const (
	// Setter calls change or depend on emulated credentials: they stop from
	// the moment a thread is traced.
	Setter Class = iota
	// Getter calls only report credentials: the kernel answers them right
	// until a thread's emulated credentials differ from its real ones.
	Getter
)

func (c Class) String() string {
	if c == Getter {
		return "getter"
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
}

// commonSyscalls are emulated on every architecture; archSyscalls (in
// table_<arch>.go) adds the ones only some architectures have.
var commonSyscalls = []Syscall{
	{unix.SYS_SETUID, "setuid", Setter, emuSetuid},
	{unix.SYS_SETGID, "setgid", Setter, emuSetgid},
	{unix.SYS_SETREUID, "setreuid", Setter, emuSetreuid},
	{unix.SYS_SETREGID, "setregid", Setter, emuSetregid},
	{unix.SYS_SETRESUID, "setresuid", Setter, emuSetresuid},
	{unix.SYS_SETRESGID, "setresgid", Setter, emuSetresgid},
	{unix.SYS_SETFSUID, "setfsuid", Setter, emuSetfsuid},
	{unix.SYS_SETFSGID, "setfsgid", Setter, emuSetfsgid},
	{unix.SYS_SETGROUPS, "setgroups", Setter, emuSetgroups},
	{unix.SYS_CAPSET, "capset", Setter, emuCapset},
	{unix.SYS_PRCTL, "prctl", Setter, emuPrctl},
	{unix.SYS_FCHOWN, "fchown", Setter, emuFchown},
	{unix.SYS_FCHOWNAT, "fchownat", Setter, emuFchownat},

	{unix.SYS_GETUID, "getuid", Getter, emuGetuid},
	{unix.SYS_GETEUID, "geteuid", Getter, emuGeteuid},
	{unix.SYS_GETGID, "getgid", Getter, emuGetgid},
	{unix.SYS_GETEGID, "getegid", Getter, emuGetegid},
	{unix.SYS_GETRESUID, "getresuid", Getter, emuGetresuid},
	{unix.SYS_GETRESGID, "getresgid", Getter, emuGetresgid},
	{unix.SYS_GETGROUPS, "getgroups", Getter, emuGetgroups},
	{unix.SYS_CAPGET, "capget", Getter, emuCapget},
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
