// Package shim is remainroot's credential model: plain Go values that
// answer credential system calls the way the Linux kernel would answer them
// for a process whose user namespace maps every id.
//
// Nothing here touches ptrace. The tracer (package attach) decodes a stopped
// thread's system call into a Call, hands it to Emulate together with the
// thread's Creds and a Memory that reads and writes the tracee, and applies
// the Outcome. Tests drive the same functions directly.
//
// Each setter quotes the rule of the man page (or kernel/sys.c and
// security/commoncap.c, which the man pages describe) that it implements.
package shim
