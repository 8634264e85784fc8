package shim

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// Fuzz targets for what a container process controls: the arguments of
// its system calls, the memory they point to (group lists, capability
// headers and data, paths, xattr names and values), the results its plan
// steps leave in memory it can write, and the user.rootlesscontainers
// values found on files. The model must answer, never panic.

// FuzzDecodeOwner: any xattr value decodes or is refused; what decodes
// encodes back to itself and never holds NoID.
func FuzzDecodeOwner(f *testing.F) {
	f.Add([]byte{0x08, 0xe8, 0x07, 0x10, 0xe8, 0x07})
	f.Add([]byte{0x08, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x10, 0x07})
	f.Add([]byte{0x1a, 0x02, 'h', 'i', 0x08, 0x03})
	f.Add([]byte{0x08})
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := DecodeOwner(b)
		if err != nil {
			return
		}
		if o.UID == NoID || o.GID == NoID {
			t.Errorf("DecodeOwner(%x) = %+v: NoID", b, o)
		}
		back, err := DecodeOwner(EncodeOwner(o))
		if err != nil || back != o {
			t.Errorf("%+v encodes to %x, which decodes to %+v, %v", o, EncodeOwner(o), back, err)
		}
	})
}

// fuzzMemory is the thread's memory at base: fuzzMemSize bytes, the
// scratch area (fakeEnv.Scratch) included; any other address faults.
type fuzzMemory struct{ buf []byte }

const fuzzMemSize = 12 << 10

func (m *fuzzMemory) span(addr uint64, n int) ([]byte, bool) {
	if addr < base || addr-base > uint64(len(m.buf)) || uint64(n) > uint64(len(m.buf))-(addr-base) {
		return nil, false
	}
	return m.buf[addr-base : addr-base+uint64(n)], true
}

func (m *fuzzMemory) ReadAt(p []byte, addr uint64) error {
	b, ok := m.span(addr, len(p))
	if !ok {
		return unix.EFAULT
	}
	copy(p, b)
	return nil
}

func (m *fuzzMemory) WriteAt(p []byte, addr uint64) error {
	b, ok := m.span(addr, len(p))
	if !ok {
		return unix.EFAULT
	}
	copy(b, p)
	return nil
}

// WriteScattered writes every piece or none, as the tracer's memory does.
func (m *fuzzMemory) WriteScattered(pieces [][]byte, addrs []uint64) error {
	for i, p := range pieces {
		if _, ok := m.span(addrs[i], len(p)); !ok {
			return unix.EFAULT
		}
	}
	for i, p := range pieces {
		m.WriteAt(p, addrs[i])
	}
	return nil
}

// fuzzEnv is fakeEnv with, in mode full, fuzzFiles.
type fuzzEnv struct {
	fakeEnv
	files Files
}

func (e fuzzEnv) Files() Files { return e.files }

// fuzzFiles answers from fuzzed bytes: the owners recorded on descriptors
// and the table of special files are what a container could have set up.
// Stat results are as long as the kernel's and hold fuzzed bytes.
type fuzzFiles struct {
	Files   // methods added later panic here, and show up in the fuzzer
	data    []byte
	xattr   []byte
	ownerOK bool
}

func (f fuzzFiles) Special(dev, ino uint64) (FileOwner, bool) {
	return FileOwner{uint32(dev), uint32(ino)}, (dev^ino)&1 == 1
}
func (f fuzzFiles) SetSpecial(dev, ino uint64, o FileOwner) {}
func (f fuzzFiles) SetFDOwner(fd int, o FileOwner) error {
	if fd < 0 {
		return unix.EBADF
	}
	return nil
}
func (f fuzzFiles) StatFD(fd int, statx bool, flags int, mask uint32) ([]byte, error) {
	if fd == -2 {
		return nil, unix.EBADF
	}
	n := statSize
	if statx {
		n = statxSize
	}
	b := make([]byte, n)
	copy(b, f.data)
	return b, nil
}
func (f fuzzFiles) FDOwner(fd int) (FileOwner, bool) {
	o, err := DecodeOwner(f.xattr)
	return o, err == nil && f.ownerOK
}
func (f fuzzFiles) FDNode(fd int) (Node, bool) {
	n, err := DecodeNode(f.xattr)
	return n, err == nil && f.ownerOK
}
func (f fuzzFiles) HasSpecial() bool { return len(f.data) > 0 && f.data[0]&1 == 1 }
func (f fuzzFiles) ImageOwners() OwnerSource {
	if len(f.data) > 2 && f.data[2]&1 == 1 {
		return f
	}
	return nil
}
func (f fuzzFiles) ImageOwner(dev, ino uint64) (FileOwner, bool) {
	return FileOwner{uint32(ino), uint32(dev)}, (dev+ino)&1 == 1
}
func (f fuzzFiles) Malformed([]byte, error) {}
func (f fuzzFiles) Missing(nr uintptr) bool { return len(f.data) > 1 && f.data[1]&1 == 1 }

// kernelResult reports whether v is a value a system call can return: not
// negative, or an errno.
func kernelResult(v int64) bool { return v >= -4095 }

// FuzzEmulate runs one emulated call with fuzzed arguments (those marked in
// ptrs point into the thread's memory), memory contents and credentials,
// in mode creds or full, and plays its plan with fuzzed step results, as
// the tracer does. Nothing may panic; a value answer must be a kernel
// result, and so must a plan's final value when the steps' results were.
func FuzzEmulate(f *testing.F) {
	atFDCWD := int64(unix.AT_FDCWD)
	for _, s := range Syscalls() {
		f.Add(uint16(s.Nr), uint8(0), uint8(0b11110), uint64(2), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0),
			[]byte{0x03, 0x3a, 0x01, 0x20, 0, 0, 0, 0}, []byte{0, 0, 0, 0, 0, 0, 0, 0}, false)
		f.Add(uint16(s.Nr), uint8(1), uint8(0b00110), uint64(atFDCWD), uint64(16), uint64(1000), uint64(1000), uint64(0), uint64(0),
			[]byte("/etc/passwd\x00"), []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true)
	}
	calls := Syscalls()
	f.Fuzz(func(t *testing.T, nr uint16, who, ptrs uint8, a0, a1, a2, a3, a4, a5 uint64, data, results []byte, full bool) {
		s, ok := Lookup(uintptr(nr))
		if !ok {
			s = calls[int(nr)%len(calls)]
		}
		call := Call{Nr: s.Nr, Args: [6]uint64{a0, a1, a2, a3, a4, a5}}
		for i := range call.Args {
			if ptrs&(1<<i) != 0 {
				call.Args[i] = base + call.Args[i]%fuzzMemSize
			}
		}
		mem := &fuzzMemory{buf: make([]byte, fuzzMemSize)}
		copy(mem.buf, data)
		var creds Creds
		switch who % 4 {
		case 0:
			creds = Root(all)
		case 1:
			creds = user(1000, 1000)
		case 2:
			creds = Root(all)
			creds.Caps.Effective = 0
		case 3:
			creds = Creds{UID: 5, EUID: 0, SUID: 7, FSUID: 0, GID: 5, EGID: 6, SGID: 7, FSGID: 6,
				Groups: []uint32{4, 27, 100}, Caps: CapSets{Permitted: all, Bounding: all}}
		}
		env := fuzzEnv{}
		// File calls reach the model only in mode full (the filter).
		if full || s.Class == File {
			env.files = fuzzFiles{data: data, xattr: results, ownerOK: who&4 != 0}
		}
		_, out := Emulate(creds, call, mem, env)
		switch out.Kind {
		case Return:
			if !kernelResult(out.Value) {
				t.Errorf("%s%x: answer %d is no kernel result", s.Name, call.Args, out.Value)
			}
		case Steps:
			playPlan(t, s, call, out.Plan, mem, results)
		}
	})
}

// playPlan makes the plan's steps as the tracer does, with results taken
// from res (8 bytes each, then 0), writing each step's input to memory.
func playPlan(t *testing.T, s Syscall, call Call, p Plan, mem *fuzzMemory, res []byte) {
	next := func() int64 {
		if len(res) < 8 {
			return 0
		}
		v := int64(binary.LittleEndian.Uint64(res))
		res = res[8:]
		return v
	}
	plausible := true
	step, final := p.Next(0)
	if fp, ok := p.(FusablePlan); ok && step != nil && len(res) > 0 && res[0]&1 == 1 {
		if second, rule, ok := fp.Fuse(); ok && second != nil {
			r := next()
			plausible = plausible && kernelResult(r)
			if rule.GoesOn(r) {
				if second.Direct {
					return
				}
				r2 := next()
				plausible = plausible && kernelResult(r2)
				if final := fp.Fused(r2); plausible && !kernelResult(final) {
					t.Errorf("%s%x: fused plan's final value %d is no kernel result", s.Name, call.Args, final)
				}
				return
			}
			step, final = p.Next(r)
		}
	}
	for i := 0; step != nil; i++ {
		if i > 64 {
			t.Fatalf("%s%x: plan of more than 64 steps", s.Name, call.Args)
		}
		if step.In != nil {
			mem.WriteAt(step.In, step.InAddr)
		}
		if step.Direct {
			return // its result is the thread's own: the plan is done
		}
		r := next()
		plausible = plausible && kernelResult(r)
		if step.Else != nil && r == -int64(step.ElseOn) {
			step = step.Else
			continue
		}
		step, final = p.Next(r)
	}
	if plausible && !kernelResult(final) {
		t.Errorf("%s%x: plan's final value %d is no kernel result", s.Name, call.Args, final)
	}
}
