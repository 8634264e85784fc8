package hook

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach"
	"github.com/remainroot/remainroot/attach/fallback"
	"github.com/remainroot/remainroot/attach/seccomp"
	"github.com/remainroot/remainroot/config"
)

// SupervisorRole is the hidden first argument that makes remainroot a
// container's supervisor: started by the precreate hook, it listens on the
// socket the rewritten config names as listenerPath, and traces each
// process the runtime hands it (the container's init, then every exec)
// until the container's init has gone.
const SupervisorRole = "__supervise"

// InitTimeout bounds how long the supervisor of a precreate hook waits
// for the runtime to connect for the container's init: podman runs
// precreate hooks right before it calls the runtime's create. The NRI
// plugin's supervisors wait without a bound (--init-timeout 0): under
// Kubernetes a container's create and start are separate calls, and the
// plugin ends the supervisor with SIGTERM when the container stops or is
// removed.
const InitTimeout = 60 * time.Second

// supervisor is one container's receiver of runtime connections.
type supervisor struct {
	log    *slog.Logger
	logOut *deferredLog
	logDir string
	filter seccomp.Filter
	full   bool
	user   *attach.Identity
	// images gives, in mode full, the owners of files without a record
	// (image_owners.go), once read (image_owners_pending.go); nil in
	// mode creds.
	images *pendingOwners
	// earlyRootfs is the root the owners were first read from
	// (--rootfs), "" when none.
	earlyRootfs string
	// reads are the owner reads started, waited for before the
	// supervisor exits (their caches written whole).
	reads    []*pendingOwners
	id       string
	initPid  int
	initNS   string
	sessions sync.WaitGroup
	// mu guards closing: once set, no session is added to sessions.
	mu      sync.Mutex
	closing bool
	// mapped says which users the container's namespace maps.
	mapped func(uid, gid uint32) bool
	// initTimeout bounds the wait for the init's connection (0: none).
	initTimeout time.Duration
	// terminated is set when SIGTERM closed the listener.
	terminated atomic.Bool
	// connected is set (with mu) once the runtime connected for the
	// init; starterGone (with mu) when the starter exited before that
	// and closed the listener.
	connected   bool
	starterGone bool
}

// SupervisorMain runs the supervisor role.
func SupervisorMain(args []string) int {
	fs := flag.NewFlagSet(SupervisorRole, flag.ContinueOnError)
	socket := fs.String("socket", "", "socket to listen on")
	mode := fs.String("mode", "creds", "creds or full")
	level := fs.String("log-level", "info", "log level")
	logDir := fs.String("log-dir", "", "log directory")
	user := fs.String("user", "", "UID:GID[:GROUPS] the container's process runs as")
	initTimeout := fs.Duration("init-timeout", InitTimeout, "how long to wait for the runtime's connection for the init (0: until SIGTERM)")
	rootfs := fs.String("rootfs", "", "mode full: the container's root, from the precreate config, to read the image owners from before the runtime connects")
	starter := fs.Int("starter", 0, "the process that creates the container (podman): the supervisor ends if it exits before the runtime connects")
	report := os.NewFile(readyFd, "remainroot-report")
	fail := func(format string, a ...any) int {
		sendMessage(report, message{Error: fmt.Sprintf(format, a...)})
		return 2
	}
	if err := fs.Parse(args); err != nil || *socket == "" {
		return fail("internal: bad supervisor arguments")
	}
	m, err := config.ParseMode(*mode)
	if err != nil {
		return fail("%v", err)
	}
	lvl, err := config.ParseLogLevel(*level)
	if err != nil {
		lvl = slog.LevelInfo
	}
	s := &supervisor{logOut: &deferredLog{}, logDir: *logDir, full: m == config.ModeFull,
		mapped: namespaceMaps(nil), initTimeout: *initTimeout}
	s.log = slog.New(slog.NewTextHandler(s.logOut, &slog.HandlerOptions{Level: lvl})).With("supervisor", os.Getpid())
	s.filter = seccomp.FullFilter
	if s.full {
		s.filter = s.filter.WithFiles()
	}
	s.startEarlyOwners(*rootfs)
	if *user != "" {
		id, err := parseIdentity(*user)
		if err != nil {
			return fail("%v", err)
		}
		s.user = &id
	}
	lock, err := lockSocket(*socket)
	if err != nil {
		return fail("lock %s: %v", *socket, err)
	}
	defer func() {
		os.Remove(lock.Name())
		lock.Close()
	}()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: *socket, Net: "unix"})
	if err != nil {
		return fail("listen on %s: %v", *socket, err)
	}
	defer ln.Close() // and removes the socket
	if err := os.Chmod(*socket, 0o600); err != nil {
		return fail("chmod %s: %v", *socket, err)
	}
	s.closeOnTerm(ln)
	if *starter > 0 {
		s.closeWithStarter(ln, *starter)
	}
	sendMessage(report, message{Ready: true})
	report.Close()
	code := s.serve(ln)
	for _, r := range s.reads {
		r.wait()
	}
	fallback.Stop()
	s.logOut.close(s.logDir, "unclaimed-"+filepath.Base(*socket))
	return code
}

// serve takes the init's connection, then every exec's, until the init's
// trace has ended.
func (s *supervisor) serve(ln *net.UnixListener) int {
	if s.initTimeout > 0 {
		ln.SetDeadline(time.Now().Add(s.initTimeout))
	}
	conn, err := ln.AcceptUnix()
	s.mu.Lock()
	s.connected = err == nil
	starterGone := s.starterGone
	s.mu.Unlock()
	if err != nil {
		if s.terminated.Load() {
			s.log.Info("ended by SIGTERM before the runtime connected (the container stopped or was removed)")
			return 0
		}
		if starterGone {
			s.log.Info("the container's starter exited before the runtime connected: the container did not start")
			return 0
		}
		s.log.Error("no runtime connected for the container's init", "err", err)
		return 1
	}
	m, err := readAgentMessage(conn)
	conn.Close()
	if err != nil {
		s.log.Error("the runtime's message for the container's init", "err", err)
		return 1
	}
	s.id, s.initPid = m.State.ID, m.State.Pid
	if s.initPid == 0 {
		s.initPid = m.Pid
	}
	if s.initPid == 0 {
		s.log.Error("the runtime's message for the container's init names no pid")
		m.Listener.Close()
		return 1
	}
	s.log = s.log.With("container", s.id, "init", s.initPid)
	s.logOut.open(s.logPath(s.id))
	if m.Pid != 0 && m.Pid != s.initPid {
		s.log.Error("the first process handed over is not the container's init", "pid", m.Pid)
		m.Listener.Close()
		return 1
	}
	if s.initNS, err = os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", s.initPid)); err != nil {
		if !errors.Is(err, os.ErrPermission) {
			s.log.Error("the container's init is gone", "err", err)
			m.Listener.Close()
			return 1
		}
		// Bare rootless crun: the init is non-dumpable until it execs;
		// its namespace is read when an exec needs it (admit).
		s.initNS = ""
	}
	s.log.Info("supervising", "mode", map[bool]string{false: "creds", true: "full"}[s.full])
	if s.full {
		s.images = s.ownersFor(m.State.Bundle)
	}
	initDone := make(chan struct{})
	go func() {
		s.trace(s.initPid, m.Listener, s.user)
		close(initDone)
	}()
	ln.SetDeadline(time.Time{})
	go s.acceptExecs(ln)
	<-initDone
	ln.Close()
	s.mu.Lock()
	s.closing = true // no session starts after this
	s.mu.Unlock()
	s.sessions.Wait()
	s.log.Info("container gone; supervisor exits")
	return 0
}

// closeOnTerm makes SIGTERM close ln: no process is taken after it, and
// the supervisor exits once the processes it traces have gone (at once
// when the init never connected). The NRI plugin sends it when the
// container stops or is removed.
func (s *supervisor) closeOnTerm(ln *net.UnixListener) {
	term := make(chan os.Signal, 1)
	signal.Notify(term, unix.SIGTERM)
	go func() {
		<-term
		s.terminated.Store(true)
		s.log.Info("SIGTERM: no further process is taken")
		ln.Close()
	}()
}

// closeWithStarter closes ln when process starter (podman) exits before
// the runtime has connected for the init: it was killed, or the runtime
// or conmon died first, and the container will not start. Without it the
// supervisor would listen until InitTimeout.
func (s *supervisor) closeWithStarter(ln *net.UnixListener, starter int) {
	pidfd, err := unix.PidfdOpen(starter, 0)
	if err != nil {
		s.log.Debug("cannot watch the container's starter", "pid", starter, "err", err)
		return
	}
	go func() {
		defer unix.Close(pidfd)
		pfd := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(pfd, -1); !errors.Is(err, unix.EINTR) {
				break
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.connected {
			s.starterGone = true
			ln.Close()
		}
	}()
}

// acceptExecs hands every later process (podman exec) to a trace of its
// own, until ln is closed.
func (s *supervisor) acceptExecs(ln *net.UnixListener) {
	for {
		conn, err := ln.AcceptUnix()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Error("accept", "err", err)
			}
			return
		}
		m, err := readAgentMessage(conn)
		conn.Close()
		if err != nil {
			s.log.Error("a runtime's message", "err", err)
			continue
		}
		// crun 1.8 sends pid 0 in the state of an exec: the id must match.
		if (m.State.Pid != s.initPid && m.State.Pid != 0) || m.State.ID != s.id {
			s.log.Error("a runtime's message for another container refused", "id", m.State.ID, "init", m.State.Pid)
			m.Listener.Close()
			continue
		}
		user, err := execUser(m.PeerPid, s.mapped)
		if err != nil {
			s.log.Warn("the exec's user is not known; the runtime's calls decide", "err", err)
		}
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			s.log.Info("an exec arrived as the container ended; refused", "pid", m.Pid)
			m.Listener.Close()
			return
		}
		s.sessions.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.sessions.Done()
			s.trace(m.Pid, m.Listener, user)
		}()
	}
}

// trace follows one handed-over process and its descendants.
func (s *supervisor) trace(pid int, listener *os.File, user *attach.Identity) {
	isInit := pid == s.initPid
	fd, err := unix.Dup(int(listener.Fd()))
	listener.Close()
	if err != nil {
		s.log.Error("dup the listener", "err", err)
		return
	}
	kind := "exec"
	if isInit {
		kind = "init"
	}
	log := s.log.With("session", kind, "pid", pid)
	opts := attach.Options{Log: log, EmulateFromExec: true, Files: s.full, OwnThreadOnly: true,
		RefusedIDsBeforeExec: true, Admit: s.admit(isInit), Lazy: !s.full}
	opts.Identity = user
	if s.images != nil {
		opts.ImageOwners = s.images.Owners
	}
	res, err := attach.Trace(opts, func(sess *attach.Session) error {
		return sess.AdoptListener(pid, fd, s.filter, func(err error) {
			if err != nil {
				log.Error("cannot add the tracer's filter", "err", err)
				return
			}
			log.Info("attached")
		})
	})
	if err != nil {
		log.Error("trace ended", "err", describeAttachError(pid, err))
		return
	}
	log.Info("process tree gone", "stops", res.Stops, "notifications", res.Notifications)
}

// admit refuses processes outside the container: the init must be the
// state's init, an exec'd process must be in the init's pid namespace.
func (s *supervisor) admit(isInit bool) func(pid int) error {
	return func(pid int) error {
		if isInit {
			if pid != s.initPid {
				return fmt.Errorf("process %d is not the container's init %d", pid, s.initPid)
			}
			return nil
		}
		ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
		if errors.Is(err, os.ErrPermission) {
			// A non-dumpable exec (bare rootless crun) hides its
			// namespaces; the socket takes only this user's runtimes,
			// which can reach the user's processes anyway.
			s.log.Debug("exec admitted without its pid namespace (not readable)", "pid", pid)
			return nil
		}
		if err != nil {
			return fmt.Errorf("process %d: %w", pid, err)
		}
		if s.initNS == "" {
			s.initNS, _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", s.initPid))
		}
		if ns != s.initNS {
			return fmt.Errorf("process %d is not in the container's pid namespace", pid)
		}
		return nil
	}
}

func (s *supervisor) logPath(name string) string { return logPathIn(s.logDir, name) }

// logPathIn is the log file for name in dir or the fallback (openLogPath),
// or /dev/null when no safe one exists.
func logPathIn(dir, name string) string {
	p, err := openLogPath(dir, name)
	if err != nil {
		return os.DevNull
	}
	return p
}

// deferredLog buffers log records until the container's log file is
// known (the container id arrives with the runtime's first message).
type deferredLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
	f   *os.File
	set bool
}

func (d *deferredLog) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.set {
		if d.f == nil {
			return len(p), nil
		}
		return d.f.Write(p)
	}
	return d.buf.Write(p)
}

// open sends the records to path from now on (none for /dev/null).
func (d *deferredLog) open(path string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.set {
		return
	}
	d.set = true
	if path == "" || path == os.DevNull {
		return
	}
	f, err := openLogFile(path)
	if err != nil {
		return
	}
	d.f = f
	f.Write(d.buf.Bytes())
	d.buf.Reset()
	// A crash (a Go panic) writes to stderr, /dev/null for a detached
	// supervisor: let it reach the log.
	unix.Dup2(int(f.Fd()), 2)
}

// close keeps records that never found their container in a log file of
// their own.
func (d *deferredLog) close(dir, name string) {
	d.mu.Lock()
	pending := !d.set && d.buf.Len() > 0
	d.mu.Unlock()
	if pending {
		d.open(logPathIn(dir, name))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f != nil {
		d.f.Close()
	}
}
