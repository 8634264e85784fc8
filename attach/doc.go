// Package attach is remainroot's tracer: the state machine that knows who
// is attached and when, runs the single wait loop that owns every tracee,
// and decides which route answers each emulated system call (a ptrace
// stop, a seccomp notification, a plan of real calls, the stub), handing
// the call to package shim, which decides the answer.
//
// The mechanism it drives lives in packages of its own, none of which
// imports attach: ptrace (requests, registers, tracee memory), seccomp
// (filters and the notification ioctls), procfs (/proc readers), inject
// (system calls run inside a stopped tracee), stub (the injected code and
// its region) and auxv (the auxiliary vector at exec). The routes a call
// takes to the model and back have one shape (package route: a Call comes
// in, an Answer delivers the outcome), each in a package of its own:
// route/ptracestop and route/notify. See docs/architecture.md.
//
// All ptrace requests come from one goroutine locked to its OS thread (the
// kernel accepts ptrace requests only from the thread that attached). That
// goroutine never returns while a tracee lives: with PTRACE_O_EXITKILL the
// tracees die with it, so a traced program never runs half-emulated.
//
// It also exports what it knows of the host, without changing anything:
// the kernel's seccomp and ptrace facilities (kernel_facts.go), Yama and
// the LSMs (ptrace_facts.go), which `remainroot doctor` judges and the
// hook's failure message names.
package attach
