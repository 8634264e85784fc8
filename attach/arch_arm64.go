package attach

import "golang.org/x/sys/unix"

// The architecture a seccomp program checks first.
const (
	auditArch = unix.AUDIT_ARCH_AARCH64
	// x32SyscallBit: arm64 has no x32-like ABI to reject.
	x32SyscallBit = 0
)
