package shim

import "golang.org/x/sys/unix"

// archSyscalls are the x86-64 calls that arm64 lacks.
var archSyscalls = []Syscall{
	{unix.SYS_CHOWN, "chown", Setter, emuChown, ArgBits{}},
	{unix.SYS_LCHOWN, "lchown", Setter, emuLchown, ArgBits{}},

	{unix.SYS_STAT, "stat", File, emuStat, ArgBits{}},
	{unix.SYS_LSTAT, "lstat", File, emuLstat, ArgBits{}},
	{unix.SYS_NEWFSTATAT, "newfstatat", File, emuNewfstatat, ArgBits{3, StatMarker, true}},
	{unix.SYS_OPEN, "open", File, emuOpen, ArgBits{1, unix.O_CREAT, false}},
	{unix.SYS_CREAT, "creat", File, emuCreat, ArgBits{}},
	{unix.SYS_MKDIR, "mkdir", File, emuMkdir, ArgBits{}},
	{unix.SYS_MKNOD, "mknod", File, emuMknod, ArgBits{}},
	{unix.SYS_SYMLINK, "symlink", File, emuSymlink, ArgBits{}},
}

// archNotifiedCalls: see notifiedCalls.
var archNotifiedCalls = map[uintptr]ArgBits{
	unix.SYS_NEWFSTATAT: {Arg: 3, Mask: unix.AT_EMPTY_PATH},
	unix.SYS_OPEN:       {},
	unix.SYS_CREAT:      {},
	unix.SYS_MKDIR:      {},
	unix.SYS_MKNOD:      {},
	unix.SYS_SYMLINK:    {},
}
