package stub

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/inject"
	"github.com/remainroot/remainroot/attach/ptrace"
)

// The region: the stub's code page at Addr, then Slots slots of data of
// SlotSize bytes each, one per plan in progress, each holding a stub frame
// (FrameSize bytes) and the plan's scratch area. Which slot is whose is the
// tracer's bookkeeping (package attach).

const (
	Slots    = 64
	SlotSize = 8192
	// DataAddr is where the slots start, after the stub's page.
	DataAddr = Addr + PageSize
)

// SlotFrame and SlotScratch are the addresses of slot i's stub frame and
// of its scratch area, right after the frame.
func SlotFrame(i int) uint64   { return DataAddr + uint64(i)*SlotSize }
func SlotScratch(i int) uint64 { return SlotFrame(i) + FrameSize }

// SlotOf returns the slot whose frame is at addr.
func SlotOf(addr uint64) (int, bool) {
	if addr < DataAddr || (addr-DataAddr)%SlotSize != 0 {
		return 0, false
	}
	i := int((addr - DataAddr) / SlotSize)
	return i, i < Slots
}

// MapRegion maps the region into tid's process, stopped at a stop outside
// a system call with registers saved (an exec or attach stop), and writes
// the stub (ptrace.WriteCode: its page is not writable). A non-empty
// filter is mapped read-only at FilterAddr and written the same way.
func MapRegion(tid int, saved *ptrace.Regs, filter Filter) error {
	if len(Code) == 0 {
		return fmt.Errorf("no stub on this architecture")
	}
	type mapping struct{ addr, size, prot uint64 }
	maps := []mapping{
		{Addr, PageSize, unix.PROT_READ | unix.PROT_EXEC},
		{DataAddr, Slots * SlotSize, unix.PROT_READ | unix.PROT_WRITE},
	}
	if len(filter.Bits) > 0 {
		maps = append(maps, mapping{FilterAddr, uint64(len(filter.Bits)+4095) &^ 4095, unix.PROT_READ})
	}
	for _, m := range maps {
		res, err := inject.Syscall(tid, saved, unix.SYS_MMAP, MmapArgs(m.addr, m.size, m.prot), nil, 0)
		if err != nil {
			return err
		}
		if err := MmapError(m.addr, res); err != nil {
			return err
		}
	}
	if err := ptrace.WriteCode(tid, Code, Addr); err != nil {
		return fmt.Errorf("write the stub: %w", err)
	}
	if len(filter.Bits) > 0 {
		if err := ptrace.WriteCode(tid, filter.Bits, FilterAddr); err != nil {
			return fmt.Errorf("write the image filter: %w", err)
		}
	}
	return nil
}

// MmapArgs are the arguments of the anonymous private mapping of size
// bytes at addr, never over an existing mapping.
func MmapArgs(addr, size, prot uint64) [6]uint64 {
	return [6]uint64{addr, size, prot, unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_FIXED_NOREPLACE, ^uint64(0), 0}
}

// MmapError checks the result of MmapArgs's mapping at addr.
func MmapError(addr uint64, res int64) error {
	switch {
	case uint64(res) == addr:
		return nil
	case res < 0:
		return fmt.Errorf("mmap at %#x: %w", addr, unix.Errno(-res))
	}
	// A kernel without MAP_FIXED_NOREPLACE put it elsewhere.
	return fmt.Errorf("mmap at %#x gave %#x", addr, uint64(res))
}
