package fallback

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/seccomp"
)

// heldListener is a listener in the fallback answerer, with its slot.
type heldListener struct {
	fd   int
	slot uint32
}

// Main is the answerer's role: it holds the listeners it is handed until
// the tracer's process is gone, then answers their notifications with
// CONTINUE until none has users. It returns the exit code.
func Main() int {
	mem, err := openSlotMemory(fallbackSlotsFd, fallbackSlots)
	if err != nil {
		return 1
	}
	var held []heldListener
	sock := fallbackSocketFd
	buf := make([]byte, 4)
	oob := make([]byte, unix.CmsgSpace(4*8))
	for sock >= 0 {
		// Wait for the next listener, the tracer's end, or a listener's
		// last user gone (events 0: POLLHUP alone, never a notification).
		pfds := make([]unix.PollFd, 0, len(held)+1)
		pfds = append(pfds, unix.PollFd{Fd: int32(sock), Events: unix.POLLIN})
		for _, h := range held {
			pfds = append(pfds, unix.PollFd{Fd: int32(h.fd)})
		}
		if _, err := unix.Poll(pfds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return 1
		}
		held = dropOrphaned(held, pfds[1:])
		if pfds[0].Revents == 0 {
			continue
		}
		n, oobn, _, _, err := unix.Recvmsg(sock, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != nil && errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			// The tracer's process is gone (or is done): take over.
			unix.Close(sock)
			sock = -1
			break
		}
		fds := receivedFds(oob[:oobn])
		if n != 4 || len(fds) != 1 {
			for _, fd := range fds {
				unix.Close(fd)
			}
			continue
		}
		held = append(held, heldListener{fd: fds[0], slot: binary.LittleEndian.Uint32(buf)})
	}
	// The calls the tracer received and did not answer.
	for _, h := range held {
		if id, ok := mem.load(h.slot); ok {
			continueNotification(h.fd, id)
			continueNotification(h.fd, id+1)
		}
	}
	answerWithKernel(held)
	return 0
}

// dropOrphaned closes the listeners whose poll reported POLLHUP.
func dropOrphaned(held []heldListener, pfds []unix.PollFd) []heldListener {
	kept := held[:0]
	for i, h := range held {
		if pfds[i].Revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
			unix.Close(h.fd)
			continue
		}
		kept = append(kept, h)
	}
	return kept
}

// answerWithKernel answers every notification of held with CONTINUE until
// none has users.
func answerWithKernel(held []heldListener) {
	var n seccomp.Notif
	for len(held) > 0 {
		pfds := make([]unix.PollFd, len(held))
		for i, h := range held {
			pfds[i] = unix.PollFd{Fd: int32(h.fd), Events: unix.POLLIN}
		}
		if _, err := unix.Poll(pfds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		for i, h := range held {
			if pfds[i].Revents&unix.POLLIN == 0 {
				continue
			}
			// POLLIN: a notification waits, so RECV does not block (one
			// withdrawn meanwhile by its killed thread gives ENOENT).
			if err := seccomp.Recv(h.fd, &n); err == nil {
				if n.Nr == unix.SYS_EXECVE || n.Nr == unix.SYS_EXECVEAT {
					// Only the in-process route's filter notifies
					// execs: the new program would keep the filter
					// layer and lose the handler, and die at its first
					// stat. Refused instead.
					refuseNotification(h.fd, n.ID, unix.EPERM)
					continue
				}
				continueNotification(h.fd, n.ID)
			}
		}
		held = dropOrphaned(held, pfds)
	}
}

// continueNotification lets the kernel run notified call id as it is.
func continueNotification(fd int, id uint64) {
	resp := seccomp.NotifResp{ID: id, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
	seccomp.Send(fd, &resp) // ENOENT (gone) or EINPROGRESS (not received): nothing to do
}

// refuseNotification makes notified call id fail with errno.
func refuseNotification(fd int, id uint64, errno unix.Errno) {
	resp := seccomp.NotifResp{ID: id, Error: -int32(errno)}
	seccomp.Send(fd, &resp)
}

// receivedFds returns the descriptors of an SCM_RIGHTS message.
func receivedFds(oob []byte) []int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var fds []int
	for _, m := range msgs {
		if got, err := unix.ParseUnixRights(&m); err == nil {
			fds = append(fds, got...)
		}
	}
	return fds
}
