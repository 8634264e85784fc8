package inprocess

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/inject"
	"github.com/remainroot/remainroot/attach/procfs"
	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/attach/seccomp"
	"github.com/remainroot/remainroot/attach/stub"
	"github.com/remainroot/remainroot/shim"
)

// saSigsys are the flags of the handler's action: it gets the siginfo and
// the signal frame, runs on the thread's alternate stack when it has one
// (a goroutine's stack is too small for a signal frame), takes the traps
// of its own signal handlers' calls (SIGSYS is not blocked while it runs),
// and returns through its own rt_sigreturn.
const saSigsys = saSiginfo | saOnstack | saNodefer | saRestorer

// The sigaction flags (asm-generic/signal-defs.h, x86's SA_RESTORER),
// which x/sys does not name.
const (
	saSiginfo  = 0x00000004
	saOnstack  = 0x08000000
	saNodefer  = 0x40000000
	saRestorer = 0x04000000
)

// actOffset is where Install lays out the handler's sigaction, at the end
// of the data page (the handler reads nothing there).
const actOffset = DataSize - 64

// Install puts the route into the process of tid, stopped outside a system
// call with registers saved (the stop after its exec): it maps the handler
// (read and execute) and its data page d (read and write), makes the
// handler SIGSYS's action, keeping the action SIGSYS had (ignored across
// an exec) as the program's own, unblocks SIGSYS, and adds the layer on
// top of the process's filters. A failure leaves the process as it was,
// but for the mappings (nothing uses them then).
//
// layered says the thread has the layer already (filters outlive exec):
// then it gets none more, or the filters would grow at every exec of an
// exec chain. The calls Install makes carry the tracer's marker, which
// the layer lets through.
//
// filter, when not empty, is the image filter d names, mapped here
// (read-only, at stub.FilterAddr) for a process without the stub's region.
func Install(tid int, saved *ptrace.Regs, d Data, layered bool, filter []byte) error {
	if !Supported {
		return errors.New("no in-process handler on this architecture")
	}
	page, err := d.Bytes()
	if err != nil {
		return err
	}
	layer, err := Layer().Program()
	if err != nil {
		return err
	}
	for _, m := range []struct{ addr, size, prot uint64 }{
		{HandlerAddr, CodeSize, unix.PROT_READ | unix.PROT_EXEC},
		{DataAddr, DataSize, unix.PROT_READ | unix.PROT_WRITE},
	} {
		res, err := inject.Syscall(tid, saved, unix.SYS_MMAP, stub.MmapArgs(m.addr, m.size, m.prot), nil, 0)
		if err != nil {
			return err
		}
		if err := stub.MmapError(m.addr, res); err != nil {
			return err
		}
	}
	if err := ptrace.WriteCode(tid, Code, HandlerAddr); err != nil {
		return fmt.Errorf("write the handler: %w", err)
	}
	if len(filter) > 0 {
		size := uint64(len(filter)+4095) &^ 4095
		res, err := inject.Syscall(tid, saved, unix.SYS_MMAP, stub.MmapArgs(stub.FilterAddr, size, unix.PROT_READ), nil, 0)
		if err != nil {
			return err
		}
		if err := stub.MmapError(stub.FilterAddr, res); err != nil {
			return err
		}
		if err := ptrace.WriteCode(tid, filter, stub.FilterAddr); err != nil {
			return fmt.Errorf("write the image filter: %w", err)
		}
	}
	if err := (ptrace.Memory{Tid: tid}).WriteAt(page, DataAddr); err != nil {
		return fmt.Errorf("write the handler's data: %w", err)
	}
	act := make([]byte, 32) // struct kernel_sigaction
	binary.LittleEndian.PutUint64(act[0:], Entry)
	binary.LittleEndian.PutUint64(act[8:], saSigsys)
	binary.LittleEndian.PutUint64(act[16:], Restorer)
	res, err := inject.Syscall(tid, saved, unix.SYS_RT_SIGACTION,
		[6]uint64{uint64(unix.SIGSYS), DataAddr + actOffset, DataAddr + dataProgActionOff, 8, 0, shim.InjectMarker}, act, DataAddr+actOffset)
	if err != nil {
		return err
	}
	if res != 0 {
		return fmt.Errorf("rt_sigaction(SIGSYS): %w", unix.Errno(-res))
	}
	if sigsysBlocked(tid) {
		set := make([]byte, 8)
		binary.LittleEndian.PutUint64(set, 1<<(unix.SIGSYS-1))
		res, err = inject.Syscall(tid, saved, unix.SYS_RT_SIGPROCMASK,
			[6]uint64{unix.SIG_UNBLOCK, DataAddr + actOffset, 0, 8, 0, shim.InjectMarker}, set, DataAddr+actOffset)
		if err != nil {
			return err
		}
		if res != 0 {
			return fmt.Errorf("rt_sigprocmask(SIG_UNBLOCK, SIGSYS): %w", unix.Errno(-res))
		}
	}
	if !layered {
		res, err = inject.Filter(tid, seccomp.Encode(layer), 0)
		if err != nil {
			return err
		}
		if res != 0 {
			return fmt.Errorf("install the layer: %w", unix.Errno(-res))
		}
	}
	one := make([]byte, 8)
	binary.LittleEndian.PutUint64(one, 1)
	if err := (ptrace.Memory{Tid: tid}).WriteAt(one, DataAddr+dataLayerOff); err != nil {
		return fmt.Errorf("write the handler's data: %w", err)
	}
	return nil
}

// dataLayerOff is a word of the data page the handler never reads: 1
// once the process has the layer (Layered).
const dataLayerOff = DataSize - 128

// Layered reports whether the process whose memory read reads has the
// route and the layer: its data page, of this version, says so.
func Layered(read func(p []byte, addr uint64) error) bool {
	b := make([]byte, 8)
	return Installed(read) && read(b, DataAddr+dataLayerOff) == nil && binary.LittleEndian.Uint64(b) == 1
}

// Installed reports whether the process whose memory read reads has the
// route: its data page, of this version.
func Installed(read func(p []byte, addr uint64) error) bool {
	if !Supported {
		return false
	}
	b := make([]byte, 8)
	return read(b, DataAddr+dataVersionOff) == nil && binary.LittleEndian.Uint64(b) == dataVersion
}

// Trapped reports whether the layer traps call nr (a plan's step of that
// number carries the tracer's marker).
func Trapped(nr uintptr) bool {
	for _, t := range templates() {
		if uintptr(t.Nr) == nr {
			return true
		}
	}
	return false
}

// sigsysBlocked reports whether thread tid blocks SIGSYS (a mask an exec
// keeps), or may: its status cannot be read.
func sigsysBlocked(tid int) bool {
	v, err := procfs.StatusField(tid, "SigBlk")
	if err != nil {
		return true
	}
	mask, err := strconv.ParseUint(v, 16, 64)
	return err != nil || mask&(1<<(unix.SIGSYS-1)) != 0
}
