package attach

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// statBytes and statxBytes view the structs as the kernel lays them out
// (x/sys/unix defines them with the kernel's layout for each architecture).
func statBytes(st *unix.Stat_t) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(st)), unsafe.Sizeof(*st))
}

func statxBytes(stx *unix.Statx_t) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(stx)), unsafe.Sizeof(*stx))
}
