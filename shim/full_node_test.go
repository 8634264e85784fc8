package shim

import (
	"bytes"
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// nodeFiles is mode full's Files for the device node tests: no special
// files; a descriptor's object has owner and node records.
type nodeFiles struct {
	Files
	stat []byte // what StatFD returns
	node Node
}

func (nodeFiles) HasSpecial() bool              { return false }
func (nodeFiles) Missing(uintptr) bool          { return false }
func (nodeFiles) Malformed([]byte, error)       { panic("malformed record") }
func (nodeFiles) FDOwner(int) (FileOwner, bool) { return FileOwner{0, 5}, true }
func (f nodeFiles) FDNode(int) (Node, bool)     { return f.node, true }
func (f nodeFiles) StatFD(int, bool, int, uint32) ([]byte, error) {
	return append([]byte(nil), f.stat...), nil
}

// nodeEnv is fakeEnv in mode full with nodeFiles.
type nodeEnv struct {
	fakeEnv
	files Files
}

func (e nodeEnv) Files() Files { return e.files }

func TestNodeRecord(t *testing.T) {
	for _, n := range []Node{{false, 4, 5}, {true, 8, 1}, {true, 4095, 0xfffff}} {
		got, err := DecodeNode(EncodeNode(n))
		if err != nil || got != n {
			t.Errorf("%+v: decoded %+v, %v", n, got, err)
		}
	}
	for _, bad := range [][]byte{nil, []byte("c"), []byte("x12345678"), []byte("c123456789")} {
		if _, err := DecodeNode(bad); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
	if maj, min := decodeDev(uint64(makedev(4, 5))); maj != 4 || min != 5 {
		t.Errorf("decodeDev(makedev(4, 5)) = %d, %d", maj, min)
	}
	if maj, min := decodeDev(uint64(makedev(259, 0x12345))); maj != 259 || min != 0x12345 {
		t.Errorf("decodeDev(makedev(259, 0x12345)) = %d, %d", maj, min)
	}
	if o, err := DecodeOwner(ownerRecord(FileOwner{})); err != nil || o != (FileOwner{}) || len(ownerRecord(FileOwner{})) == 0 {
		t.Errorf("ownerRecord(0:0) = %x decodes to %+v, %v", ownerRecord(FileOwner{}), o, err)
	}
}

// TestMknodDevice: who may make a device node, and how the call is
// answered (the kernel's call unchanged, or a plan).
func TestMknodDevice(t *testing.T) {
	noMknod := Root(all)
	noMknod.Caps.Effective &^= 1 << CapMknod
	chr := uint64(unix.S_IFCHR | 0o620)
	dev := makedev(4, 5)
	full := nodeEnv{files: nodeFiles{}}
	cases := []struct {
		name     string
		creds    Creds
		call     Call
		env      Env
		wantPlan bool
	}{
		{"root makes a char device", Root(all), call(unix.SYS_MKNODAT, fdcwd, base, chr, dev), full, true},
		{"root makes a block device", Root(all), call(unix.SYS_MKNODAT, fdcwd, base, unix.S_IFBLK|0o600, makedev(8, 1)), full, true},
		{"a user gets the kernel's EPERM", user(1000, 1000), call(unix.SYS_MKNODAT, fdcwd, base, chr, dev), full, false},
		{"root without CAP_MKNOD gets the kernel's EPERM", noMknod, call(unix.SYS_MKNODAT, fdcwd, base, chr, dev), full, false},
		{"a whiteout is the kernel's", Root(all), call(unix.SYS_MKNODAT, fdcwd, base, unix.S_IFCHR, 0), full, false},
		{"a FIFO is the kernel's", Root(all), call(unix.SYS_MKNODAT, fdcwd, base, unix.S_IFIFO|0o644, 0), full, false},
		{"a regular file is the kernel's", Root(all), call(unix.SYS_MKNODAT, fdcwd, base, unix.S_IFREG|0o644, 0), full, false},
		{"mode creds: the kernel's", Root(all), call(unix.SYS_MKNODAT, fdcwd, base, chr, dev), fakeEnv{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &fakeMemory{base: base, buf: make([]byte, 8192)}
			copy(m.buf, "/opt/dev/c\x00")
			_, out := Emulate(c.creds, c.call, m, c.env)
			if !c.wantPlan {
				if out.Kind != Run || out.Args != c.call.Args {
					t.Fatalf("outcome %+v, want the call unchanged", out)
				}
				return
			}
			if out.Kind != Steps {
				t.Fatalf("outcome %+v, want a plan", out)
			}
			step, _ := out.Plan.Next(0)
			if step.Nr != unix.SYS_MKNODAT || step.Args[2] != unix.S_IFREG|c.call.Args[2]&0o7777 || step.Args[3] != 0 {
				t.Fatalf("first step %+v, want mknodat of a regular file", step)
			}
		})
	}
}

// playNode runs a device node plan with the given step results.
func playNode(t *testing.T, p Plan, results ...int64) (steps []*Step, final int64) {
	step, final := p.Next(0)
	for step != nil {
		steps = append(steps, step)
		if len(results) == 0 {
			t.Fatalf("step %d %+v past the results", len(steps), step)
		}
		step, final = p.Next(results[0])
		results = results[1:]
	}
	return steps, final
}

func TestMknodDevicePlan(t *testing.T) {
	m := &fakeMemory{base: base, buf: make([]byte, 8192)}
	copy(m.buf, "/opt/dev/c\x00")
	emulated := Root(all)
	emulated.FSGID = 5
	mk := call(unix.SYS_MKNODAT, fdcwd, base, unix.S_IFCHR|0o620, makedev(4, 5))
	_, out := Emulate(emulated, mk, m, nodeEnv{files: nodeFiles{}})
	steps, final := playNode(t, out.Plan, 0, 0, 0)
	if final != 0 || len(steps) != 3 {
		t.Fatalf("%d steps, final %d; want 3 steps and 0", len(steps), final)
	}
	for i, want := range []struct {
		name  string
		value []byte
	}{{OwnerXattr, ownerRecord(FileOwner{0, 5})}, {NodeXattr, EncodeNode(Node{false, 4, 5})}} {
		st := steps[i+1]
		if st.Nr != unix.SYS_LSETXATTR || st.Args[0] != base {
			t.Fatalf("step %d %+v, want lsetxattr of the path", i+1, st)
		}
		name := st.In[st.Args[1]-st.InAddr:]
		name = name[:bytes.IndexByte(name, 0)]
		value := st.In[st.Args[2]-st.InAddr:][:st.Args[3]]
		if string(name) != want.name || !bytes.Equal(value, want.value) {
			t.Errorf("step %d sets %s=%x, want %s=%x", i+1, name, value, want.name, want.value)
		}
	}
	// Without user xattrs there is no node, as without remainroot.
	_, out = Emulate(emulated, mk, m, nodeEnv{files: nodeFiles{}})
	steps, final = playNode(t, out.Plan, 0, -int64(unix.ENOTSUP), 0)
	if final != -int64(unix.EPERM) || steps[len(steps)-1].Nr != unix.SYS_UNLINKAT {
		t.Fatalf("records refused: last step %+v, final %d; want unlinkat, EPERM", steps[len(steps)-1], final)
	}
	// The kernel's error for the file itself (EEXIST) is the call's.
	_, out = Emulate(emulated, mk, m, nodeEnv{files: nodeFiles{}})
	if _, final = playNode(t, out.Plan, -int64(unix.EEXIST)); final != -int64(unix.EEXIST) {
		t.Fatalf("existing path: final %d, want EEXIST", final)
	}
}

// emptyFile is a struct stat (or statx) of an empty regular file 0640
// owned by 0:0.
func emptyFile(isStatx bool) []byte {
	if isStatx {
		b := make([]byte, statxSize)
		binary.LittleEndian.PutUint16(b[statxMode:], unix.S_IFREG|0o640)
		return b
	}
	b := make([]byte, statSize)
	binary.LittleEndian.PutUint32(b[statMode:], unix.S_IFREG|0o640)
	return b
}

// TestStatNode: a stat of a file with an owner record that is an empty
// regular file reads the node record and shows the node.
func TestStatNode(t *testing.T) {
	node := Node{false, 4, 5}
	cases := []struct {
		name    string
		call    Call
		isStatx bool
		buf     uint64
	}{
		{"newfstatat", call(newfstatatNr, fdcwd, base, base+256, 0), false, base + 256},
		{"statx", call(unix.SYS_STATX, fdcwd, base, 0, unix.STATX_BASIC_STATS, base+256), true, base + 256},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &fakeMemory{base: base, buf: make([]byte, 8192)}
			copy(m.buf, "/opt/dev/c\x00")
			env := nodeEnv{files: nodeFiles{}}
			_, out := Emulate(Root(all), c.call, m, env)
			s := scratch{env.Scratch()}
			step, _ := out.Plan.Next(0)
			rec := ownerRecord(FileOwner{0, 5})
			m.WriteAt(rec, s.value())
			if step, _ = out.Plan.Next(int64(len(rec))); step == nil || step.Nr != c.call.Nr {
				t.Fatalf("second step %+v, want the stat", step)
			}
			m.WriteAt(emptyFile(c.isStatx), c.buf)
			step, _ = out.Plan.Next(0)
			if step == nil || step.Nr != unix.SYS_GETXATTR || !bytes.HasPrefix(step.In, []byte(NodeXattr+"\x00")) {
				t.Fatalf("third step %+v, want getxattr of the node record", step)
			}
			m.WriteAt(EncodeNode(node), s.value())
			if step, final := out.Plan.Next(nodeRecordLen); step != nil || final != 0 {
				t.Fatalf("after the node record: step %+v, final %d", step, final)
			}
			checkNodeStat(t, m.buf[c.buf-base:], c.isStatx, node)
		})
	}
	// A non-empty regular file is no node: no third step.
	m := &fakeMemory{base: base, buf: make([]byte, 8192)}
	copy(m.buf, "/opt/f\x00")
	env := nodeEnv{files: nodeFiles{}}
	_, out := Emulate(Root(all), call(newfstatatNr, fdcwd, base, base+256, 0), m, env)
	out.Plan.Next(0)
	rec := ownerRecord(FileOwner{0, 5})
	m.WriteAt(rec, scratch{env.Scratch()}.value())
	out.Plan.Next(int64(len(rec)))
	b := emptyFile(false)
	binary.LittleEndian.PutUint64(b[statSizeOff:], 1)
	m.WriteAt(b, base+256)
	if step, final := out.Plan.Next(0); step != nil || final != 0 {
		t.Fatalf("non-empty file: step %+v, final %d; want the stat's 0", step, final)
	}
}

// TestFstatNode: a stat of a descriptor shows the node as well.
func TestFstatNode(t *testing.T) {
	node := Node{true, 8, 1}
	for _, isStatx := range []bool{false, true} {
		m := &fakeMemory{base: base, buf: make([]byte, 8192)}
		env := nodeEnv{files: nodeFiles{stat: emptyFile(isStatx), node: node}}
		c := call(unix.SYS_FSTAT, 3, base+256)
		if isStatx {
			c = call(unix.SYS_STATX, 3, base+200, unix.AT_EMPTY_PATH, unix.STATX_BASIC_STATS, base+256)
		}
		if _, out := Emulate(Root(all), c, m, env); out.Kind != Return || out.Value != 0 {
			t.Fatalf("statx %v: %+v, want 0", isStatx, out)
		}
		checkNodeStat(t, m.buf[256:], isStatx, node)
	}
}

func checkNodeStat(t *testing.T, b []byte, isStatx bool, n Node) {
	t.Helper()
	var mode uint32
	var maj, min uint32
	if isStatx {
		mode = uint32(binary.LittleEndian.Uint16(b[statxMode:]))
		maj, min = binary.LittleEndian.Uint32(b[statxRdevMj:]), binary.LittleEndian.Uint32(b[statxRdevMn:])
	} else {
		mode = binary.LittleEndian.Uint32(b[statMode:])
		maj, min = decodeDev(binary.LittleEndian.Uint64(b[statRdev:]))
	}
	if mode != n.Type()|0o640 || maj != n.Major || min != n.Minor {
		t.Errorf("statx %v: mode %o rdev %d,%d; want %o %d,%d", isStatx, mode, maj, min, n.Type()|0o640, n.Major, n.Minor)
	}
}

// TestNodeRecordHidden: the traced programs never see the node record.
func TestNodeRecordHidden(t *testing.T) {
	m := &fakeMemory{base: base, buf: make([]byte, 8192)}
	copy(m.buf, "/opt/dev/c\x00")
	copy(m.buf[64:], NodeXattr+"\x00")
	env := nodeEnv{files: nodeFiles{}}
	if _, out := Emulate(Root(all), call(unix.SYS_GETXATTR, base, base+64, base+128, 16), m, env); out.Value != -int64(unix.ENODATA) {
		t.Errorf("getxattr: %+v, want ENODATA", out)
	}
	if _, out := Emulate(Root(all), call(unix.SYS_SETXATTR, base, base+64, base+128, 9, 0), m, env); out.Value != -int64(unix.EPERM) {
		t.Errorf("setxattr: %+v, want EPERM", out)
	}
}
