package shim

import "golang.org/x/sys/unix"

// archSyscalls: arm64 has only the *at forms; fstatat is newfstatat.
var archSyscalls = []Syscall{
	{unix.SYS_FSTATAT, "newfstatat", File, emuNewfstatat, ArgBits{3, StatMarker, true}},
}

// archNotifiedCalls: see notifiedCalls.
var archNotifiedCalls = map[uintptr]ArgBits{
	unix.SYS_FSTATAT: {Arg: 3, Mask: unix.AT_EMPTY_PATH},
}
