package main

import (
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
//     and continues the command's group.
type jobControl struct {
	log        *slog.Logger
	foreground bool
	tty        int
	pid        int
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
	j := &jobControl{log: log, tty: int(os.Stdin.Fd()), sigs: make(chan os.Signal, 16),
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
			if err := unix.Kill(j.pid, sig); err != nil {
				j.log.Debug("forward signal", "signal", sig, "err", err)
			}
		case sig := <-j.stops:
			j.stopSelf(sig)
		}
	}
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
	if j.foreground {
		unix.IoctlSetPointerInt(j.tty, unix.TIOCSPGRP, unix.Getpgrp())
	}
}
