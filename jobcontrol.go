package main

import (
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach"
)

// jobControl makes a traced command behave, for signals and the terminal,
// as if it had been started directly:
//   - the command runs in its own process group; when remainroot is the
//     terminal's foreground group, that group gets the terminal, so ctrl-c
//     and ctrl-z reach the command once, from the kernel;
//   - signals sent to remainroot itself are forwarded to the command;
//   - when the command stops (ctrl-z), remainroot takes the terminal back
//     and stops itself with the same signal, so the shell sees the job stop;
//     when the shell continues remainroot (fg), it gives the terminal back
//     and continues the command's group;
//   - a signal that would end a process, sent to remainroot once the
//     command is gone (while the trace waits for the command's own
//     children), ends remainroot itself with that signal, as `timeout` and
//     CI runners expect of any wrapper.
type jobControl struct {
	log        *slog.Logger
	foreground bool
	tty        int
	pid        int
	pidfd      int // the command's, so a reaped pid is never signalled
	sigs       chan os.Signal
	stops      chan unix.Signal
	done       chan struct{}
	wg         sync.WaitGroup
	selfStop   bool
}

// forwardedSignals are relayed to the command.
var forwardedSignals = []os.Signal{unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM,
	unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH, unix.SIGALRM, unix.SIGPIPE, unix.SIGCONT,
	unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU}

func newJobControl(log *slog.Logger) *jobControl {
	j := &jobControl{log: log, tty: int(os.Stdin.Fd()), pidfd: -1, sigs: make(chan os.Signal, 16),
		stops: make(chan unix.Signal, 4), done: make(chan struct{})}
	if pgrp, err := unix.IoctlGetInt(j.tty, unix.TIOCGPGRP); err == nil && pgrp == unix.Getpgrp() {
		j.foreground = true
	}
	// Caught from the start, so a signal sent before the command runs is
	// not lost; delivered once the command's pid is known.
	signal.Notify(j.sigs, forwardedSignals...)
	return j
}

// start begins forwarding to the command pid, which leads its own group.
func (j *jobControl) start(pid int) {
	j.pid = pid
	// Opened before the trace can reap the command: the command is the
	// caller's unreaped child here.
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		j.log.Debug("pidfd_open of the command", "pid", pid, "err", err)
		fd = -1
	}
	j.pidfd = fd
	if j.foreground {
		// tcsetpgrp from a background group raises SIGTTOU unless ignored.
		signal.Ignore(unix.SIGTTOU)
	}
	j.wg.Add(1)
	go j.relay()
}

// mainStopped is called by the tracer when the command enters a group-stop.
func (j *jobControl) mainStopped(sig unix.Signal) {
	select {
	case j.stops <- sig:
	default:
	}
}

func (j *jobControl) relay() {
	defer j.wg.Done()
	for {
		select {
		case <-j.done:
			return
		case s := <-j.sigs:
			sig := s.(unix.Signal)
			if sig == unix.SIGCONT && j.selfStop {
				j.resumed()
				continue
			}
			j.forward(sig)
		case sig := <-j.stops:
			j.stopSelf(sig)
		}
	}
}

// forward sends sig to the command; when the command is gone, a signal
// whose default action ends a process ends remainroot instead.
func (j *jobControl) forward(sig unix.Signal) {
	if j.pidfd < 0 {
		if err := unix.Kill(j.pid, sig); err != nil {
			j.log.Debug("forward signal", "signal", sig, "err", err)
		}
		return
	}
	// Gone before the signal: the signal is for remainroot. (A command
	// that the forwarded signal ends is reported as its own death.)
	if !commandGone(j.pidfd) {
		err := unix.PidfdSendSignal(j.pidfd, sig, nil, 0)
		if err == nil || !errors.Is(err, unix.ESRCH) {
			if err != nil {
				j.log.Debug("forward signal", "signal", sig, "err", err)
			}
			return
		}
	}
	if !endsProcess(sig) {
		return
	}
	j.log.Debug("the command is gone: the signal ends remainroot", "signal", sig)
	signal.Reset(sig)
	unix.Kill(unix.Getpid(), sig)
}

// commandGone reports whether the process behind pidfd has exited (a
// zombie not yet reaped by the trace counts as gone).
func commandGone(pidfd int) bool {
	var info unix.Siginfo
	err := unix.Waitid(unix.P_PIDFD, pidfd, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	if err != nil {
		return errors.Is(err, unix.ECHILD) || errors.Is(err, unix.ESRCH)
	}
	// With WNOHANG and no exited child, the kernel leaves si_signo 0;
	// otherwise it is SIGCHLD.
	return info.Signo != 0
}

// endsProcess reports whether sig's default action terminates a process
// (signal(7): Term or Core).
func endsProcess(sig unix.Signal) bool {
	switch sig {
	case unix.SIGCONT, unix.SIGWINCH, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU, unix.SIGCHLD, unix.SIGURG:
		return false
	}
	return true
}

// stopSelf mirrors the command's stop on remainroot, so the shell that
// started remainroot sees its job stopped.
func (j *jobControl) stopSelf(sig unix.Signal) {
	if !j.foreground {
		return
	}
	if err := unix.IoctlSetPointerInt(j.tty, unix.TIOCSPGRP, unix.Getpgrp()); err != nil {
		j.log.Debug("take back terminal", "err", err)
	}
	j.selfStop = true
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := attach.StopWithDefaultAction(sig); err != nil {
		j.log.Debug("stop self", "signal", sig, "err", err)
	}
}

// resumed runs when remainroot is continued after stopping itself: give the
// terminal back if the shell made us foreground (fg, not bg) and continue
// the command's group.
func (j *jobControl) resumed() {
	j.selfStop = false
	if pgrp, err := unix.IoctlGetInt(j.tty, unix.TIOCGPGRP); err == nil && pgrp == unix.Getpgrp() {
		if err := unix.IoctlSetPointerInt(j.tty, unix.TIOCSPGRP, j.pid); err != nil {
			j.log.Debug("give terminal", "err", err)
		}
	}
	unix.Kill(-j.pid, unix.SIGCONT)
}

// stop ends forwarding and takes the terminal back.
func (j *jobControl) stop() {
	close(j.done)
	j.wg.Wait()
	signal.Stop(j.sigs)
	if j.pidfd >= 0 {
		unix.Close(j.pidfd)
	}
	if j.foreground {
		unix.IoctlSetPointerInt(j.tty, unix.TIOCSPGRP, unix.Getpgrp())
	}
}
