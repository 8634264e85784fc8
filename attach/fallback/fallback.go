// Package fallback keeps processes that a tracer left unattached running
// when the tracer dies: a small process of remainroot's own holds a
// duplicate of each seccomp listener and, once the tracer's process is
// gone, lets the kernel answer every notified call (CONTINUE).
package fallback

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// The answerer outlives the tracer. A seccomp listener whose last
// descriptor closes makes every notified call fail with ENOSYS from then
// on: when remainroot's tracer or supervisor dies, processes it had not
// attached (a lazy trace's released ones, whose credentials are their
// real ones) would see every credential call fail, getters included
// (`id -u` printing 4294967258). So each listener of a lazy trace is also
// held by a small process of remainroot's own (Role), started off
// the start-up path. It does nothing while the tracer lives; when its
// socket to the tracer's process ends (that process exited or died), it
// answers every notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE, so the
// kernel runs each call as it is: the processes get their real
// credentials, which were their emulated ones. It drops a listener when
// no process uses its filter any more (POLLHUP) and exits when it holds
// none and the tracer is gone.
//
// A call the tracer had received but not answered when it died would wait
// for ever (its listener is still open in the answerer): the tracer
// records the id of each notification it receives in a slot of memory it
// shares with the answerer, and the answerer answers that id, and the
// next, at its takeover. A tracer receives one notification at a time per
// listener, so the call in flight is the recorded one or the one after.
//
// Attached processes are not helped: they die with the tracer
// (PTRACE_O_EXITKILL). Their emulated credentials differ from their real
// ones (that is why they are attached), and letting them run on with the
// kernel's answers would silently change who they are (a process that
// dropped to nobody would find itself root again).

// Role is the hidden first argument of the answerer process.
const Role = "__fallback"

// The answerer's inherited descriptors: the socket that brings listeners,
// and the shared slots.
const (
	fallbackSocketFd = 3
	fallbackSlotsFd  = 4
)

// fallbackSlots is how many listeners can be held at once; a listener
// beyond that is served without a fallback (logged).
const fallbackSlots = 4096

// fallback is the tracer process's side of the answerer: one per process
// (a supervisor runs many traces), started at the first listener.
type fallback struct {
	mu    sync.Mutex
	start sync.Once
	err   error
	sock  int
	pid   int
	slots slotMemory
	free  []uint32
	next  uint32
	// held counts the listeners handed over and still used.
	held int
}

// processFallback is this process's answerer.
var processFallback fallback

// Slot is one listener's record in the shared memory; the zero Slot
// records nothing.
type Slot struct {
	f     *fallback
	index uint32
	ok    bool
}

// Ensure starts this process's answerer, once. It must run on a thread
// without the trace's filter: the answerer would inherit the filter and
// keep it in use for ever.
func Ensure() error { return processFallback.ensure() }

func (f *fallback) ensure() error {
	f.start.Do(func() { f.err = f.startAnswerer() })
	return f.err
}

// Hand gives this process's answerer a duplicate of listener fd (starting
// it if needed: see Ensure) and returns the slot in which the tracer
// records the notifications it receives.
func Hand(fd int, log *slog.Logger) Slot { return processFallback.hand(fd, log) }

func (f *fallback) hand(fd int, log *slog.Logger) Slot {
	if f.ensure() != nil {
		log.Warn("no fallback answerer: if the tracer dies, unattached processes' credential calls fail with ENOSYS", "err", f.err)
		return Slot{}
	}
	f.mu.Lock()
	var index uint32
	switch {
	case len(f.free) > 0:
		index = f.free[len(f.free)-1]
		f.free = f.free[:len(f.free)-1]
	case f.next < fallbackSlots:
		index = f.next
		f.next++
	default:
		f.mu.Unlock()
		log.Warn("no fallback slot left for a listener", "listeners", fallbackSlots)
		return Slot{}
	}
	f.slots.clear(index)
	msg := binary.LittleEndian.AppendUint32(nil, index)
	err := unix.Sendmsg(f.sock, msg, unix.UnixRights(fd), nil, 0)
	f.mu.Unlock()
	if err != nil {
		log.Warn("cannot hand a listener to the fallback answerer", "err", os.NewSyscallError("sendmsg", err))
		f.release(index)
		return Slot{}
	}
	f.mu.Lock()
	f.held++
	f.mu.Unlock()
	return Slot{f: f, index: index, ok: true}
}

// OK reports whether the listener is held by the answerer.
func (s Slot) OK() bool { return s.ok }

// Record notes that notification id was received.
func (s Slot) Record(id uint64) {
	if s.ok {
		s.f.slots.store(s.index, id)
	}
}

// Done returns the slot; its listener has no users left.
func (s Slot) Done() {
	if s.ok {
		s.f.mu.Lock()
		s.f.held--
		s.f.mu.Unlock()
		s.f.release(s.index)
	}
}

func (f *fallback) release(index uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.free = append(f.free, index)
}

// startAnswerer starts the answerer process with its socket and slots.
func (f *fallback) startAnswerer() error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socketpair", err)
	}
	mem, err := newSlotMemory(fallbackSlots)
	if err != nil {
		unix.Close(pair[0])
		unix.Close(pair[1])
		return err
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		unix.Close(pair[0])
		unix.Close(pair[1])
		mem.close()
		return err
	}
	defer null.Close()
	theirs := os.NewFile(uintptr(pair[1]), "remainroot-fallback")
	defer theirs.Close()
	slotsFile := os.NewFile(uintptr(mem.fd), "remainroot-fallback-slots")
	// Its own session: a terminal's signals for remainroot's job do not
	// reach it; no parent-death signal: it is meant to outlive us.
	proc, err := os.StartProcess(self, []string{"remainroot", Role}, &os.ProcAttr{
		Files: []*os.File{null, null, null, theirs, slotsFile},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		unix.Close(pair[0])
		mem.close()
		return fmt.Errorf("start the fallback answerer: %w", err)
	}
	f.pid = proc.Pid
	proc.Release()
	f.sock = pair[0]
	f.slots = mem
	return nil
}

// Stop is called when the process ends its work: the answerer's
// socket closes. When every listener handed to it has lost its users (a
// normal end), it has nothing left to answer and exits at once, and it is
// reaped here; otherwise (processes left, such as a command's daemon) it
// answers them from now on and ends with them, on its own.
func Stop() {
	f := &processFallback
	f.start.Do(func() { f.err = errors.New("never started") })
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil || f.pid == 0 {
		return
	}
	unix.Close(f.sock)
	if f.held > 0 {
		return
	}
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(f.pid, &ws, unix.WALL, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	f.pid = 0
}
