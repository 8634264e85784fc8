package attach

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// seccompNotif is struct seccomp_notif.
type seccompNotif struct {
	id    uint64
	pid   uint32
	flags uint32
	nr    int32
	arch  uint32
	ip    uint64
	args  [6]uint64
}

// seccompNotifResp is struct seccomp_notif_resp.
type seccompNotifResp struct {
	id    uint64
	val   int64
	error int32
	flags uint32
}

// SECCOMP_IOCTL_NOTIF_ID_VALID and SECCOMP_IOCTL_NOTIF_SET_FLAGS
// (_IOW('!', 2, __u64) and _IOW('!', 4, __u64)).
const (
	seccompIoctlNotifIDValid  = 0x40082102
	seccompIoctlNotifSetFlags = 0x40082104
)

func notifRecv(fd int, n *seccompNotif) error {
	*n = seccompNotif{}
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(n)))
	if e != 0 {
		return e
	}
	return nil
}

func notifSend(fd int, r *seccompNotifResp) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(r)))
	if e != 0 {
		return e
	}
	return nil
}

func notifIDValid(fd int, id uint64) bool {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), seccompIoctlNotifIDValid, uintptr(unsafe.Pointer(&id)))
	return e == 0
}
