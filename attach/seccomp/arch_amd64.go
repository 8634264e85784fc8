package seccomp

import "golang.org/x/sys/unix"

// The architecture a seccomp program checks first, and the bit of the
// x32 ABI's system call numbers, which the program rejects.
const (
	AuditArch     = unix.AUDIT_ARCH_X86_64
	X32SyscallBit = 0x40000000
)
