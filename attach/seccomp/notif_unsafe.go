package seccomp

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Notif is struct seccomp_notif.
type Notif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Nr    int32
	Arch  uint32
	IP    uint64
	Args  [6]uint64
}

// NotifResp is struct seccomp_notif_resp.
type NotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// SECCOMP_IOCTL_NOTIF_ID_VALID and SECCOMP_IOCTL_NOTIF_SET_FLAGS
// (_IOW('!', 2, __u64) and _IOW('!', 4, __u64)).
const (
	ioctlNotifIDValid  = 0x40082102
	IoctlNotifSetFlags = 0x40082104
)

// Recv receives the next notification on listener fd
// (SECCOMP_IOCTL_NOTIF_RECV) into n.
func Recv(fd int, n *Notif) error {
	*n = Notif{}
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(n)))
	if e != 0 {
		return e
	}
	return nil
}

// Send answers a notification (SECCOMP_IOCTL_NOTIF_SEND).
func Send(fd int, r *NotifResp) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(r)))
	if e != 0 {
		return e
	}
	return nil
}

// IDValid reports whether notification id is still pending: the thread
// has not been killed or interrupted since (SECCOMP_IOCTL_NOTIF_ID_VALID).
func IDValid(fd int, id uint64) bool {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), ioctlNotifIDValid, uintptr(unsafe.Pointer(&id)))
	return e == 0
}
