package attach

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/fallback"
	"github.com/remainroot/remainroot/attach/seccomp"
)

// A lazy trace starts its command without the launcher: a new OS thread
// of the tracer installs the filter, with its listener, on itself alone (no
// TSYNC), and forks the command from there. The child inherits the
// thread's filter and execs the command at once; the thread then exits,
// and its filter with it. The command is never attached for its start:
// its credentials are the real ones, which are its emulated ones. This
// saves the launcher's own start-up (a Go program's, about 1.5 ms).

// errDirectStart means the command is to be started by the launcher: the
// thread could not get a listener, or the command could not be found or
// started (the launcher reports those as a shell would, 127 or 126).
var errDirectStart = errors.New("start the command through the launcher")

// startDirect starts c with the lazy filter, and takes its listener.
// Callers hold t.mu (on the tracer's thread).
func (t *Tracer) startDirect(c Command) (int, error) {
	if len(c.Argv) == 0 {
		return 0, errDirectStart
	}
	path, err := exec.LookPath(c.Argv[0])
	if err != nil {
		return 0, errDirectStart
	}
	prog, err := seccomp.SetterFilter.WithNotify().WithLazy().Program()
	if err != nil {
		return 0, err
	}
	type started struct {
		pid, fd int
		slot    fallback.Slot
		err     error
	}
	// Started here, on a thread without the filter (package fallback).
	fallback.Ensure()
	ch := make(chan started, 1)
	onDisposableThread(func() {
		if !hasCapSysAdmin() {
			if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
				ch <- started{err: fmt.Errorf("set no_new_privs: %w", err)}
				return
			}
		}
		fd, err := seccomp.Install(seccomp.Encode(prog), unix.SECCOMP_FILTER_FLAG_NEW_LISTENER|unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
		if err != nil {
			t.log.Debug("no listener for a direct start", "err", err)
			ch <- started{err: errDirectStart}
			return
		}
		// The fallback answerer holds the listener before the command
		// runs: a tracer killed at any moment leaves the command the
		// kernel's answers (package fallback).
		slot := fallback.Hand(fd, t.log)
		proc, err := os.StartProcess(path, c.Argv, &os.ProcAttr{
			Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
			Sys:   &syscall.SysProcAttr{Setpgid: true, Foreground: c.Foreground, Ctty: 0},
		})
		if err != nil {
			slot.Done()
			unix.Close(fd)
			t.log.Debug("direct start failed", "err", err)
			ch <- started{err: errDirectStart}
			return
		}
		pid := proc.Pid
		proc.Release()
		ch <- started{pid: pid, fd: fd, slot: slot}
	})
	s := <-ch
	if s.err != nil {
		return 0, s.err
	}
	t.notifying = true
	t.listeners++
	go t.serveNotifications(s.fd, s.slot)
	return s.pid, nil
}
