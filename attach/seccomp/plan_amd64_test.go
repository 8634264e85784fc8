package seccomp

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/shim"
)

// sparseMemory is a tracee address space for plan tests: every address
// reads as zero until written.
type sparseMemory map[uint64]byte

func (m sparseMemory) ReadAt(p []byte, addr uint64) error {
	for i := range p {
		p[i] = m[addr+uint64(i)]
	}
	return nil
}

func (m sparseMemory) WriteAt(p []byte, addr uint64) error {
	for i, b := range p {
		m[addr+uint64(i)] = b
	}
	return nil
}

// planEnv is a mode creds thread for plan tests.
type planEnv struct{}

func (planEnv) Tid() int                       { return 7 }
func (planEnv) CredsOf(int) (shim.Creds, bool) { return shim.Creds{}, false }
func (planEnv) Scratch() uint64                { return 0x7000_0000 }
func (planEnv) Files() shim.Files              { return nil }
func (planEnv) Mapped(uint32, bool) bool       { return true }
func (planEnv) ReadOnlyMount(uint64) bool      { return false }
func (planEnv) NoNewPrivs() bool               { return false }

// TestDirectStepsMatchFilter runs mode creds's chown plans to their end and
// checks the last step, the call itself returning straight to the thread:
// when the filter lets it through, the step must say Untraced, or the
// tracer waits for a seccomp stop that never comes and passes the thread's
// next chown-family call unemulated (issue 11, item 3).
func TestDirectStepsMatchFilter(t *testing.T) {
	noChown, err := shim.Root(shim.AllCaps(40)).SetCaps(shim.AllCaps(40)&^(1<<unix.CAP_CHOWN), shim.AllCaps(40), 0)
	if err != nil {
		t.Fatal(err)
	}
	path := uint64(0x6000_0000)
	calls := map[string]shim.Call{
		"chown":    {Nr: unix.SYS_CHOWN, Args: [6]uint64{path, 0, uint64(shim.NoID)}},
		"lchown":   {Nr: unix.SYS_LCHOWN, Args: [6]uint64{path, uint64(shim.NoID), 0}},
		"fchown":   {Nr: unix.SYS_FCHOWN, Args: [6]uint64{3, 0, 0}},
		"fchownat": {Nr: unix.SYS_FCHOWNAT, Args: [6]uint64{3, path, 0, uint64(shim.NoID), 0}},
		// Emulated root's chown to another owner is a plan too.
		"chown-1000":  {Nr: unix.SYS_CHOWN, Args: [6]uint64{path, 1000, 1000}},
		"fchown-1000": {Nr: unix.SYS_FCHOWN, Args: [6]uint64{3, uint64(shim.NoID), 1000}},
	}
	plans := 0 // that end with the call itself
	for _, creds := range []shim.Creds{noChown, shim.Root(shim.AllCaps(40))} {
		for name, call := range calls {
			mem := sparseMemory{}
			mem.WriteAt([]byte("f\x00"), path)
			_, out := shim.Emulate(creds, call, mem, planEnv{})
			if out.Kind != shim.Steps {
				continue
			}
			prev := int64(0)
			for n := 0; ; n++ {
				step, final := out.Plan.Next(prev)
				if step == nil {
					if final == 0 {
						t.Errorf("%s (eff %#x): plan succeeded without the call itself", name, uint64(creds.Caps.Effective))
					}
					break // refused
				}
				if step.Direct {
					plans++
					for _, f := range []Filter{SetterFilter, SetterFilter.WithNotify()} {
						passes := runFilterData(t, f, seccompDataArgs(AuditArch, uint32(step.Nr), step.Args)) == allow
						if passes != step.Untraced {
							t.Errorf("%s (eff %#x), %+v: last step args %#x: filter allows it: %v, step.Untraced: %v",
								name, uint64(creds.Caps.Effective), f, step.Args, passes, step.Untraced)
						}
					}
					break
				}
				if n > 8 {
					t.Fatalf("%s: plan does not end", name)
				}
				prev = fakeStepResult(mem, step)
			}
		}
	}
	if plans < 6 {
		t.Errorf("only %d of the plans ended with the call itself", plans)
	}
}

// fakeStepResult answers a plan's step as the kernel would for a regular
// file owned by 0:0 on a writable mount.
func fakeStepResult(mem sparseMemory, step *shim.Step) int64 {
	if len(step.In) > 0 {
		mem.WriteAt(step.In, step.InAddr)
	}
	switch step.Nr {
	case unix.SYS_NEWFSTATAT:
		st := make([]byte, 144)
		binary.LittleEndian.PutUint32(st[24:], unix.S_IFREG|0o644)
		mem.WriteAt(st, step.Args[2])
	case unix.SYS_STATX:
		stx := make([]byte, 256)
		binary.LittleEndian.PutUint32(stx[0:], unix.STATX_BASIC_STATS|unix.STATX_MNT_ID)
		binary.LittleEndian.PutUint16(stx[28:], unix.S_IFREG|0o644)
		mem.WriteAt(stx, step.Args[4])
	}
	return 0
}
