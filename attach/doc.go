// Package attach is remainroot's ptrace mechanism: it seizes threads,
// installs the seccomp filter that makes only emulated system calls stop,
// runs the single wait loop that owns every tracee, reads and writes
// registers and memory, and hands each stopped system call to package shim,
// which decides the answer.
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
