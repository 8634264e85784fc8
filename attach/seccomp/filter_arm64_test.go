package seccomp

import (
	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/shim"
)

// archNotifiedCases are the arm64 calls of TestFilterNotifiedFileCalls.
func archNotifiedCases(atEmpty, marker uint64) []filterCase {
	const notify = unix.SECCOMP_RET_USER_NOTIF
	marked := uint64(shim.StatMarker)
	return []filterCase{
		{"newfstatat AT_EMPTY_PATH", unix.SYS_FSTATAT, [6]uint64{3, 0, 0, atEmpty}, notify},
		{"newfstatat path", unix.SYS_FSTATAT, [6]uint64{3, 0, 0, unix.AT_SYMLINK_NOFOLLOW}, trace},
		{"newfstatat StatMarker", unix.SYS_FSTATAT, [6]uint64{3, 0, 0, marked}, allow},
		{"newfstatat AT_EMPTY_PATH escalated", unix.SYS_FSTATAT, [6]uint64{3, 0, 0, atEmpty, 0, marker}, trace},
	}
}

// compatArch is the architecture of AArch32 calls, which the kernel's
// action cache covers too.
const compatArch = unix.AUDIT_ARCH_ARM

// sampleIPs are instruction pointers for TestFilterSameVerdicts (no stub
// on arm64: the pointer does not matter).
var sampleIPs = []uint64{0, 0x400000, 0xffff80001234, ^uint64(0)}
