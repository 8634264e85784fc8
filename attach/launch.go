package attach

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/procfs"
	"github.com/remainroot/remainroot/attach/seccomp"
)

// LaunchRole is the hidden first argument that makes remainroot act as the
// launcher: the child that installs the filter and execs the command once
// the tracer has seized it.
const LaunchRole = "__launch"

// The launcher's pipes: launchSyncFd from the tracer (a byte once the
// launcher is seized, another once the tracer holds the seccomp listener),
// launchReportFd to the tracer (the listener's descriptor number, or -1).
const (
	launchSyncFd   = 3
	launchReportFd = 4
)

// Command is a program for StartCommand.
type Command struct {
	Argv []string
	// Files traces the calls of mode full too (Options.Files).
	Files bool
	// InProcess: mode full with the in-process route (Options.InProcess).
	InProcess bool
	// Foreground gives the command's new process group the terminal on
	// stdin (job control); otherwise it only gets its own process group.
	Foreground bool
}

// StartCommand starts argv traced: a lazy trace starts it directly with
// its filter (launch_direct.go); otherwise, or when that cannot be done,
// it re-executes remainroot as the launcher in a new process group, seizes
// it, and lets it go on to install the filter and exec the command, and
// every process is followed. Emulation begins at that exec (the tracer
// needs Options.EmulateFromExec). It returns the command's pid.
func (s *Session) StartCommand(c Command) (int, error) {
	if s.t.lazy && !c.Files {
		pid, err := s.t.startDirect(c)
		if err == nil {
			s.SetMain(pid)
			s.t.mainChild = true
			return pid, nil
		}
		if !errors.Is(err, errDirectStart) {
			return 0, err
		}
		// The launcher says why, or traces every process with its
		// filter (no listener: ptrace alone).
	}
	if !s.t.opts.InProcess {
		// Every process is followed. The in-process route stays lazy:
		// the launcher is seized, and its command released at its exec
		// once the route is in.
		s.t.lazy = false
	}
	self, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("find own executable: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("launcher pipe: %w", err)
	}
	reportR, reportW, err := os.Pipe()
	if err != nil {
		r.Close()
		w.Close()
		return 0, fmt.Errorf("launcher pipe: %w", err)
	}
	attr := &os.ProcAttr{
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr, r, reportW},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Foreground: c.Foreground, Ctty: 0},
	}
	proc, err := os.StartProcess(self, launchArgs(c), attr)
	r.Close()
	reportW.Close()
	if err != nil {
		w.Close()
		reportR.Close()
		return 0, fmt.Errorf("start launcher: %w", err)
	}
	pid := proc.Pid
	proc.Release()
	s.SetMain(pid)
	s.t.mainChild = true
	// The launcher is the command to be: killed before it execs (by
	// SIGKILL from outside), its death is the command's, and the wait
	// loop reaps it and reports its status (live: the main child).
	if err := s.SeizeProcess(pid, false); err != nil {
		if errors.Is(err, unix.ESRCH) || exited(pid) {
			s.t.log.Debug("the launcher died before it was seized", "pid", pid, "err", err)
			w.Close()
			reportR.Close()
			return pid, nil
		}
		unix.Kill(pid, unix.SIGKILL)
		w.Close()
		reportR.Close()
		return 0, err
	}
	if _, err := w.Write([]byte{1}); err != nil {
		w.Close()
		reportR.Close()
		if errors.Is(err, unix.EPIPE) {
			// Its end of the pipe is closed: it died (seized, its end
			// comes to the wait loop).
			s.t.log.Debug("the launcher died before it was released", "pid", pid)
			return pid, nil
		}
		return 0, fmt.Errorf("release launcher: %w", err)
	}
	// The listener arrives while the wait loop runs (the launcher's own
	// threads stop and must be resumed meanwhile), so it is taken off the
	// tracer's thread: pidfd_getfd needs no ptrace request.
	go s.t.receiveListener(pid, reportR, w)
	return pid, nil
}

// receiveListener reads the launcher's report, takes its listener, and
// tells it to go on (1) or to give up (0).
func (t *Tracer) receiveListener(pid int, report, sync *os.File) {
	defer report.Close()
	defer sync.Close()
	var fd int
	if _, err := fmt.Fscan(report, &fd); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			// The launcher gave up before installing the filter (a
			// command not found): it says why on stderr itself, in one
			// line, and its exit status is the command's.
			t.log.Debug("the launcher exited without a report")
			return
		}
		t.log.Error("launcher report", "err", err)
		return
	}
	if fd >= 0 {
		t.mu.Lock()
		err := t.takeListener(pid, fd)
		t.mu.Unlock()
		if err != nil {
			t.log.Error("take the launcher's seccomp listener", "err", err)
			sync.Write([]byte{0})
			return
		}
	}
	sync.Write([]byte{1})
}

func launchArgs(c Command) []string {
	args := []string{"remainroot", LaunchRole}
	switch {
	case c.InProcess:
		args = append(args, "--in-process")
	case c.Files:
		args = append(args, "--files")
	}
	return append(append(args, "--"), c.Argv...)
}

// Launch is the launcher role: wait until the tracer has seized this
// process, install the setter filter on every thread, and exec argv. It
// returns only on failure, with the exit status a shell would use.
func Launch(argv []string) (int, error) {
	filter := seccomp.SetterFilter
	switch {
	case len(argv) > 0 && argv[0] == "--files":
		filter, argv = filter.WithFiles(), argv[1:]
	case len(argv) > 0 && argv[0] == "--in-process":
		filter, argv = filter.WithInProcess(), argv[1:]
	}
	if len(argv) > 0 && argv[0] == "--" {
		argv = argv[1:]
	}
	runtime.LockOSThread()
	sync := os.NewFile(launchSyncFd, "remainroot-sync")
	b := make([]byte, 1)
	if n, _ := sync.Read(b); n != 1 {
		return 1, errors.New("the tracer went away before releasing the command")
	}
	if len(argv) == 0 {
		return 2, errors.New("no command")
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return 127, fmt.Errorf("%s: command not found", argv[0])
		}
		return 126, fmt.Errorf("%s: %w", argv[0], err)
	}
	if !hasCapSysAdmin() {
		// seccomp(2) needs CAP_SYS_ADMIN in the caller's user namespace or
		// no_new_privs: outside a user namespace only the latter is possible.
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return 1, fmt.Errorf("set no_new_privs: %w", err)
		}
	}
	listener, err := installLaunchFilter(filter)
	if err != nil {
		return 1, fmt.Errorf("install seccomp filter: %w", err)
	}
	report := os.NewFile(launchReportFd, "remainroot-report")
	fmt.Fprintf(report, "%d\n", listener)
	report.Close()
	if n, _ := sync.Read(b); n != 1 || b[0] != 1 {
		return 1, errors.New("the tracer could not take the seccomp listener")
	}
	sync.Close()
	err = unix.Exec(path, argv, os.Environ())
	if errors.Is(err, unix.ENOENT) {
		return 127, fmt.Errorf("%s: %w", argv[0], err)
	}
	return 126, fmt.Errorf("%s: %w", argv[0], err)
}

func hasCapSysAdmin() bool {
	v, err := procfs.StatusField(os.Getpid(), "CapEff")
	if err != nil {
		return false
	}
	var caps uint64
	fmt.Sscanf(v, "%x", &caps)
	return caps&(1<<unix.CAP_SYS_ADMIN) != 0
}

// installLaunchFilter installs filter on every thread, with a listener for
// the notified calls when the process can have one, and returns the
// listener's descriptor or -1.
func installLaunchFilter(filter seccomp.Filter) (int, error) {
	notify, err := filter.WithNotify().Program()
	if err != nil {
		return -1, err
	}
	fd, err := seccomp.Install(seccomp.Encode(notify), unix.SECCOMP_FILTER_FLAG_TSYNC|listenerFlags)
	if err == nil {
		return fd, nil
	}
	// EBUSY: another supervisor's listener; EINVAL: an older kernel.
	raw, err := filter.Program()
	if err != nil {
		return -1, err
	}
	_, err = seccomp.Install(seccomp.Encode(raw), unix.SECCOMP_FILTER_FLAG_TSYNC)
	return -1, err
}
