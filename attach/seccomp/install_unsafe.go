package seccomp

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/shim"
)

// Install loads a seccomp program (struct sock_filter array) into the
// calling process and returns seccomp's result (a listener descriptor with
// SECCOMP_FILTER_FLAG_NEW_LISTENER). The call carries shim.InjectMarker:
// a filter already in place lets it through.
func Install(prog []byte, flags uintptr) (int, error) {
	fprog := unix.SockFprog{
		Len:    uint16(len(prog) / 8),
		Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0])),
	}
	r, _, e := unix.Syscall6(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&fprog)),
		shim.InjectMarker, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}
