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
