// Package ptrace is the tracer's hands on a stopped thread: the ptrace
// requests it makes (seize, interrupt, resume, listen, event messages,
// signal information and masks), wait4 over every tracee, the general
// registers in one architecture-neutral type (Regs, with the system call
// conventions of amd64 and arm64), and the tracee's memory (Memory).
//
// It knows nothing of who is traced or why: package attach decides when
// to make each request. Every request must come from the thread that
// attached, which is attach's business too.
package ptrace
