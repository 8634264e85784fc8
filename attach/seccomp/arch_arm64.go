package seccomp

import "golang.org/x/sys/unix"

// The architecture a seccomp program checks first.
const (
	AuditArch = unix.AUDIT_ARCH_AARCH64
	// X32SyscallBit: arm64 has no x32-like ABI to reject.
	X32SyscallBit = 0
)
