package attach

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/inject"
	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/attach/stub"
)

// The region is memory the tracer maps into each traced process in mode
// full, at a fixed address: the stub's code page (stub.go), then slots of
// data, one per plan in progress, each holding a stub frame and the plan's
// scratch area. Mode creds maps the slots alone, the first time a process
// makes a call that may need a plan. Plans never put their data on the thread's stack: a stack
// may have no room below its pointer (a goroutine's starts at 2 KiB, and
// what lies below belongs to someone else).
//
// A slot is the tracer's from a plan's start to its end, which it sees,
// except when the stub finishes a fused plan by itself: the stub then
// clears the frame's busy word, which the tracer reads when it runs out of
// free slots. Slots are handed out least recently used first, so a slot
// just released is the last to be taken again.

// slotState says who is using a slot.
type slotState int

const (
	slotFree  slotState = iota
	slotPlan            // a plan in progress, released at its end
	slotFused           // the stub may be using it: see stub.FrameBusy
)

type slot struct {
	state slotState
	owner int      // the thread
	run   *planRun // for slotFused: the plan the stub is running
	used  uint64   // when last handed out
}

// region is the tracer's view of one address space's region. Threads of a
// process (and vfork children) share it; fork copies the mapping, not the
// slots in use; exec drops it.
type region struct {
	mapped, failed bool
	// lazy: the slots alone (no stub), mapped at the first call that may
	// need a plan (mode creds: its chowns), so that a process that never
	// makes one costs no stop for it.
	lazy bool
	// layer: the process has the in-process route (inprocess.go), whose
	// filter layer traps the stat family: a plan's steps of those calls
	// carry the tracer's marker.
	layer bool
	slots [stub.Slots]slot
	clock uint64
}

// forked returns the region of a forked child: mapped, no slot in use.
func (rg *region) forked() *region {
	if rg == nil {
		return nil
	}
	return &region{mapped: rg.mapped, failed: rg.failed, lazy: rg.lazy, layer: rg.layer}
}

// slotsMissing reports whether the thread's process should have its slots
// mapped before emulating a call that may run a plan.
func (rg *region) slotsMissing() bool {
	return rg != nil && rg.lazy && !rg.mapped && !rg.failed
}

// acquire hands a slot to thread tid, or reports that none is free.
func (t *Tracer) acquireSlot(rg *region, tid int) (int, bool) {
	best := rg.freeSlot()
	if best < 0 {
		t.reclaimSlots(rg, tid)
		if best = rg.freeSlot(); best < 0 {
			return 0, false
		}
	}
	rg.clock++
	rg.slots[best] = slot{state: slotPlan, owner: tid, used: rg.clock}
	return best, true
}

// slotFree reports whether rg has a free slot, reclaiming those of gone
// threads and finished fused plans if it has none.
func (t *Tracer) slotFree(rg *region, tid int) bool {
	if rg.freeSlot() >= 0 {
		return true
	}
	t.reclaimSlots(rg, tid)
	return rg.freeSlot() >= 0
}

// freeSlot returns the least recently used free slot, or -1.
func (rg *region) freeSlot() int {
	best := -1
	for i := range rg.slots {
		if rg.slots[i].state == slotFree && (best < 0 || rg.slots[i].used < rg.slots[best].used) {
			best = i
		}
	}
	return best
}

// reclaimSlots frees the slots of threads that are gone and of fused plans
// whose stub is done with its frame (one read of their busy words).
func (t *Tracer) reclaimSlots(rg *region, tid int) {
	var idx []int
	var remote []unix.RemoteIovec
	for i := range rg.slots {
		s := &rg.slots[i]
		if s.state == slotFree {
			continue
		}
		if _, alive := t.threads[s.owner]; !alive {
			s.state, s.run = slotFree, nil
			continue
		}
		if s.state == slotFused {
			idx = append(idx, i)
			remote = append(remote, unix.RemoteIovec{Base: uintptr(stub.SlotFrame(i) + stub.FrameBusy), Len: 8})
		}
	}
	if len(idx) == 0 {
		return
	}
	buf := make([]byte, 8*len(idx))
	n, err := unix.ProcessVMReadv(tid, []unix.Iovec{{Base: &buf[0], Len: uint64(len(buf))}}, remote, 0)
	if err != nil || n != len(buf) {
		t.log.Debug("region: cannot read the busy words", "tid", tid, "err", err)
		return
	}
	for k, i := range idx {
		if binary.LittleEndian.Uint64(buf[8*k:]) == 0 {
			rg.slots[i].state, rg.slots[i].run = slotFree, nil
		}
	}
}

// releaseSlot gives back a plan's slot.
func releaseSlot(rg *region, i int) {
	rg.slots[i].state, rg.slots[i].run = slotFree, nil
}

// mapSlotsAtSeccomp maps the slots of th's lazy region from the seccomp
// stop of a call that may need a plan (registers r): the call is turned
// into the mmap, run to its exit stop, and then the thread is sent back to
// its system call instruction with its own registers, so that it makes
// the call again and stops at the filter once more, now with its slots.
// This costs two stops, once per process.
func (t *Tracer) mapSlotsAtSeccomp(th *thread, r *ptrace.Regs) error {
	rg := th.region
	cur := r.Clone()
	cur.SetSyscallNr(unix.SYS_MMAP)
	cur.SetArgs(stub.MmapArgs(stub.DataAddr, stub.Slots*stub.SlotSize, unix.PROT_READ|unix.PROT_WRITE))
	if err := ptrace.SetRegs(th.tid, cur); err != nil {
		return err
	}
	if err := inject.WaitSyscallStop(th.tid); err != nil { // exit of mmap
		return err
	}
	done, err := ptrace.GetRegs(th.tid)
	if err != nil {
		return err
	}
	if err := stub.MmapError(stub.DataAddr, done.ReturnValue()); err != nil {
		rg.failed = true
		t.log.Warn("cannot map the region's slots; plans use the stack", "tid", th.tid, "err", err)
	} else {
		rg.mapped = true
	}
	back := r.Clone()
	back.RerunSyscall(r.SyscallNr())
	if err := ptrace.SetRegs(th.tid, back); err != nil {
		return err
	}
	return ptrace.Resume(th.tid, 0)
}

// scratchLease is the scratch area of one emulated call: a slot of the
// region, or, when the process has none, the stack below the thread's
// stack pointer. It is taken when the emulation first asks for it.
type scratchLease struct {
	t      *Tracer
	th     *thread
	sp     uint64
	rg     *region
	taken  bool
	inSlot bool
	slot   int
	addr   uint64
}

// scratch returns the area's address, taking it on first use.
func (l *scratchLease) scratch() uint64 {
	if l.taken {
		return l.addr
	}
	l.taken = true
	if rg := l.th.region; rg != nil && rg.mapped {
		if i, ok := l.t.acquireSlot(rg, l.th.tid); ok {
			l.rg, l.inSlot, l.slot, l.addr = rg, true, i, stub.SlotScratch(i)
			return l.addr
		}
		l.t.log.Warn("region: every slot in use; this call's scratch area is on the stack", "tid", l.th.tid)
	}
	l.addr = scratchAddr(l.sp)
	return l.addr
}

// release gives the slot back, if one was taken.
func (l *scratchLease) release() {
	if l != nil && l.inSlot {
		releaseSlot(l.rg, l.slot)
		l.inSlot = false
	}
}

// newRegion gives th a region of its own, in mode full: at an exec stop
// (its address space is new) it is mapped at the thread's next
// PTRACE_EVENT_STOP, which PTRACE_INTERRUPT brings before the new program
// runs (the exec stop is inside execve, where no call can be injected); at
// an attach stop it is mapped at once.
func (t *Tracer) newRegion(th *thread, atExec bool) error {
	th.region, th.regionPending = nil, false
	if !th.emulating {
		return nil
	}
	if !t.opts.Files {
		// Mode creds: the slots alone, when a chown first needs them
		// (mapSlotsAtSeccomp); an exec costs no stop for it.
		th.region = &region{lazy: true}
		return nil
	}
	if len(stub.Code) == 0 {
		return nil
	}
	th.region = &region{}
	if atExec {
		th.regionPending = true
		return ptrace.Interrupt(th.tid)
	}
	t.mapRegionOf(th)
	return nil
}

// mapRegionOf maps th's region, th being at a stop outside a system call.
func (t *Tracer) mapRegionOf(th *thread) {
	rg := th.region
	r, err := ptrace.GetRegs(th.tid)
	if err == nil {
		err = stub.MapRegion(th.tid, r, t.filterOfImage())
	}
	if err != nil {
		rg.failed = true
		t.log.Warn("cannot map the region; plans use the stack and stats take two stops",
			"tid", th.tid, "err", err)
		return
	}
	rg.mapped = true
}

// sharesVM reports whether thread tid, just created by parent with
// ptrace event ev, shares its address space: threads and vfork children
// do, fork children do not; a clone event can be either (kcmp tells).
func sharesVM(parent *thread, tid int, ev int) bool {
	switch ev {
	case unix.PTRACE_EVENT_FORK:
		return false
	case unix.PTRACE_EVENT_VFORK:
		return true
	}
	const kcmpVM = 1 // KCMP_VM
	res, _, errno := unix.Syscall6(unix.SYS_KCMP, uintptr(parent.tid), uintptr(tid), kcmpVM, 0, 0, 0)
	return errno != 0 || res == 0
}
