package ptrace

// Kernel-internal error codes (include/linux/errno.h) that a blocking system
// call interrupted by a signal or PTRACE_INTERRUPT leaves in the return
// register until the signal code turns them into a restart or EINTR.
const (
	ERestartSys          = 512
	ERestartNoIntr       = 513
	ERestartNoHand       = 514
	ERestartRestartBlock = 516
)
