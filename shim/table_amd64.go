package shim

import "golang.org/x/sys/unix"

// archSyscalls are the x86-64 calls that arm64 lacks.
var archSyscalls = []Syscall{
	{unix.SYS_CHOWN, "chown", Setter, emuChown},
	{unix.SYS_LCHOWN, "lchown", Setter, emuLchown},
}
