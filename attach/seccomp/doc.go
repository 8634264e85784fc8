// Package seccomp is remainroot's seccomp(2) mechanism: the classic BPF
// programs that send emulated system calls to the tracer (Filter.Program,
// built from package shim's table of calls keyed by unix.SYS_*: a ptrace
// stop with SECCOMP_RET_TRACE, or a notification with
// SECCOMP_RET_USER_NOTIF), their encoding and installation (Encode,
// Install), the lists of calls a container runtime's own filter sends to
// the listener (RuntimeNotifiedCalls), and the notification ioctls
// (Notif, Recv, Send, IDValid).
//
// Which filter a process gets, and what answers its notifications, is
// package attach's.
package seccomp
