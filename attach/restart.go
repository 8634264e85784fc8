package attach

// Kernel-internal error codes (include/linux/errno.h) that a blocking system
// call interrupted by a signal or PTRACE_INTERRUPT leaves in the return
// register until the signal code turns them into a restart or EINTR.
const (
	errRestartSys          = 512
	errRestartNoIntr       = 513
	errRestartNoHand       = 514
	errRestartRestartBlock = 516
)
