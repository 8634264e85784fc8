package attach

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/ptrace"
)

// The doorbell is how the notification goroutine wakes the tracer's
// thread, which sleeps in wait4 and alone may make ptrace requests: a
// small process of remainroot's own (DoorbellRole) that the tracer seizes.
// Ringing it is a signal to it; its signal-delivery-stop ends the
// tracer's wait4, the tracer discards the signal and does the work queued
// for it. Started and reaped by the tracer's thread (its parent-death
// signal is tied to that thread).

// DoorbellRole is the hidden first argument of the doorbell process.
const DoorbellRole = "__doorbell"

// doorbellSignal rings the doorbell; never delivered.
const doorbellSignal = unix.SIGURG

type doorbell struct {
	pid  int
	work chan *tracerWork
	// changed is closed when pid is replaced or the doorbell is given
	// up (t.mu guards both).
	changed chan struct{}
}

// replaced marks a change of b's pid, or its end. Callers hold t.mu.
func (b *doorbell) replaced() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// Doorbell is the doorbell role: it waits for signals, forever.
func Doorbell() {
	for {
		unix.Pause()
	}
}

// startDoorbell starts and seizes the doorbell. On the tracer's thread.
func (t *Tracer) startDoorbell() error {
	pid, err := t.spawnDoorbell()
	if err != nil {
		return err
	}
	t.bell = &doorbell{pid: pid, work: make(chan *tracerWork, 16), changed: make(chan struct{})}
	return nil
}

// spawnDoorbell starts and seizes a doorbell process and returns its pid;
// one killed before it was seized is replaced. On the tracer's thread.
func (t *Tracer) spawnDoorbell() (int, error) {
	for {
		pid, err := t.spawnDoorbellOnce()
		if !errors.Is(err, errDoorbellDied) {
			return pid, err
		}
	}
}

// errDoorbellDied: the doorbell died before it was seized.
var errDoorbellDied = errors.New("the doorbell died before it was seized")

func (t *Tracer) spawnDoorbellOnce() (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("find own executable: %w", err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer null.Close()
	proc, err := os.StartProcess(self, []string{"remainroot", DoorbellRole}, &os.ProcAttr{
		Files: []*os.File{null, null, null},
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		return 0, fmt.Errorf("start the doorbell: %w", err)
	}
	pid := proc.Pid
	proc.Release()
	// Only EXITKILL: its own threads (the Go runtime's) are not followed.
	if err := ptrace.Retry("ptrace(PTRACE_SEIZE)", func() error {
		return ptrace.Raw(unix.PTRACE_SEIZE, pid, 0, unix.PTRACE_O_EXITKILL)
	}); err != nil {
		// A zombie cannot be seized (EPERM): killed from outside.
		died := exited(pid)
		unix.Kill(pid, unix.SIGKILL)
		ptrace.Wait4Flags(pid, t.waitFlags())
		if died {
			return 0, errDoorbellDied
		}
		return 0, fmt.Errorf("seize the doorbell: %w", err)
	}
	return pid, nil
}

// stopDoorbell kills and reaps the doorbell. On the tracer's thread.
func (t *Tracer) stopDoorbell() {
	b := t.bell
	if b == nil {
		return
	}
	t.bell = nil
	unix.Kill(b.pid, unix.SIGKILL)
	b.replaced()
	b.fail()
	if !t.opts.OwnThreadOnly {
		// The process exits next (run, hook): the doorbell's end is not
		// waited for; its zombie goes to init.
		return
	}
	for {
		_, ws, err := ptrace.Wait4Flags(b.pid, t.waitFlags())
		if err != nil || ws.Exited() || ws.Signaled() {
			return
		}
	}
}

// fail answers every queued work with errNoDoorbell.
func (b *doorbell) fail() {
	for {
		select {
		case w := <-b.work:
			w.done <- errNoDoorbell
		default:
			return
		}
	}
}

// onDoorbell handles a wait status of the doorbell: at its stop, the
// queued work is done. Callers hold t.mu.
func (t *Tracer) onDoorbell(ws unix.WaitStatus) {
	b := t.bell
	if ws.Exited() || ws.Signaled() {
		// Killed from outside. Without a doorbell the wait loop would
		// sleep in wait4 for ever once the doorbell was its last child
		// but the fallback answerer: a listener's end, or work for an
		// unattached process, could not wake it. Another one takes its
		// place (the ringers read its pid under t.mu), and the work
		// queued for the dead one is done now.
		pid, err := t.spawnDoorbell()
		if err != nil {
			t.log.Error("the doorbell died and cannot be replaced; unattached processes' calls that need the tracer run natively",
				"status", ws, "err", err)
			t.bell = nil
			b.replaced()
			b.fail()
			return
		}
		t.log.Warn("the doorbell died; another takes its place", "status", ws, "doorbell", pid)
		b.pid = pid
		b.replaced()
		b.doQueued()
		return
	}
	if !ws.Stopped() {
		return
	}
	if err := ptrace.Resume(b.pid, 0); err != nil {
		t.log.Error("resume the doorbell", "err", err)
	}
	b.doQueued()
}

// doQueued does the work queued for the doorbell. On the tracer's thread.
func (b *doorbell) doQueued() {
	for {
		select {
		case w := <-b.work:
			w.done <- w.do()
		default:
			return
		}
	}
}

// onTracerThread has w done by the tracer's thread and waits for it.
// Callers do not hold t.mu.
func (t *Tracer) onTracerThread(w *tracerWork) error {
	<-t.bellReady
	t.mu.Lock()
	b := t.bell
	var pid int
	if b != nil {
		pid = b.pid
	}
	t.mu.Unlock()
	if b == nil {
		return errNoDoorbell
	}
	w.done = make(chan error, 1)
	b.work <- w
	for {
		err := unix.Tgkill(pid, pid, doorbellSignal)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.ESRCH) {
			return os.NewSyscallError("tgkill", err)
		}
		// Reaped: the tracer's thread replaces it as it handles its
		// exit (onDoorbell); ring the new one, whose stop does the work.
		for {
			t.mu.Lock()
			current, newPid, changed := t.bell, b.pid, b.changed
			t.mu.Unlock()
			if current != b {
				return errNoDoorbell
			}
			if newPid != pid {
				pid = newPid
				break
			}
			<-changed
		}
	}
	// Done by the tracer's thread, or never: the doorbell given up (the
	// trace ended, or none could replace it) after the work was queued
	// and its queue emptied.
	for {
		t.mu.Lock()
		current, changed := t.bell, b.changed
		t.mu.Unlock()
		if current != b {
			select {
			case err := <-w.done:
				return err
			default:
				return errNoDoorbell
			}
		}
		select {
		case err := <-w.done:
			return err
		case <-changed:
		}
	}
}
