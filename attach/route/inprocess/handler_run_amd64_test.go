package inprocess

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/seccomp"
	"github.com/remainroot/remainroot/shim"
)

// harness builds testdata/harness.c and writes the handler, a data page
// and the layer where it reads them.
type harness struct {
	bin, blob, data, layer, base, dataOut string
}

// askBase is the harness's stand-in for the process's own filter: it
// notifies the handler's asking call (no listener: ENOSYS) and allows
// everything else.
func askBase() []byte {
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 8 + 4, Size: 4}, // instruction_pointer, high word
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(AskIP >> 32), SkipFalse: 3},
		bpf.LoadAbsolute{Off: 8, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(AskIP & 0xffffffff), SkipFalse: 1},
		bpf.RetConstant{Val: unix.SECCOMP_RET_USER_NOTIF},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW},
	})
	if err != nil {
		panic(err)
	}
	return seccomp.Encode(prog)
}

func newHarness(t *testing.T, d Data) harness {
	t.Helper()
	dir := t.TempDir()
	h := harness{bin: filepath.Join(dir, "harness"), blob: filepath.Join(dir, "blob"),
		data: filepath.Join(dir, "data"), layer: filepath.Join(dir, "layer"), base: filepath.Join(dir, "base"),
		dataOut: filepath.Join(dir, "data.out")}
	if out, err := exec.Command("gcc", "-O2", "-Wall", "-o", h.bin, "testdata/harness.c", "-lpthread").CombinedOutput(); err != nil {
		t.Fatalf("gcc harness.c: %v\n%s", err, out)
	}
	page, err := d.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	prog, err := Layer().Program()
	if err != nil {
		t.Fatal(err)
	}
	for path, b := range map[string][]byte{h.blob: Code, h.data: page, h.layer: seccomp.Encode(prog), h.base: askBase()} {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// run runs the harness (mode "native" or "handler") on ops, each an
// operation and a path, and returns its lines and, with the handler, its
// counters.
func (h harness) run(t *testing.T, mode string, ops [][2]string) ([]string, Counts) {
	t.Helper()
	args := []string{h.blob, h.data, h.layer, fmt.Sprint(HandlerAddr), fmt.Sprint(DataAddr),
		fmt.Sprint(Entry), fmt.Sprint(Restorer), mode}
	for _, op := range ops {
		args = append(args, op[0], op[1])
	}
	cmd := exec.Command(h.bin, args...)
	cmd.Env = append(os.Environ(), "HARNESS_DATA_OUT="+h.dataOut, "HARNESS_BASE="+h.base)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("harness %s: %v\n%s", mode, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(ops) {
		t.Fatalf("harness %s: %d lines for %d calls:\n%s", mode, len(lines), len(ops), out)
	}
	var c Counts
	if strings.HasPrefix(mode, "handler") {
		page, err := os.ReadFile(h.dataOut)
		if err != nil {
			t.Fatal(err)
		}
		c = CountsOf(page)
		if c.NoGetxattrat != (mode == "handler-noxattrat") {
			t.Errorf("harness %s: the handler found getxattrat missing: %v", mode, c.NoGetxattrat)
		}
	}
	return lines, c
}

// statTree makes the objects the handler's tests stat: a file, a
// directory, a symlink, a fifo; files with an owner record (1000:1000),
// with an empty one (none), with one of a field the handler does not
// know, and with an owner and a device node record.
func statTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "plain"), []byte("x"), 0o640))
	must(os.Mkdir(filepath.Join(dir, "dir"), 0o755))
	must(os.Symlink("plain", filepath.Join(dir, "link")))
	must(unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
	record := shim.EncodeOwner(shim.FileOwner{UID: 1000, GID: 1000})
	for name, xattrs := range map[string]map[string][]byte{
		"owned":   {shim.OwnerXattr: record},
		"empty":   {shim.OwnerXattr: {}},
		"unknown": {shim.OwnerXattr: append([]byte{0x18, 0x01}, record...)},
		"node":    {shim.OwnerXattr: record, shim.NodeXattr: shim.EncodeNode(shim.Node{Major: 4, Minor: 5})},
	} {
		p := filepath.Join(dir, name)
		must(os.WriteFile(p, []byte("y"), 0o600))
		for k, v := range xattrs {
			must(unix.Setxattr(p, k, v, 0))
		}
	}
	return dir
}

var statOps = []string{"stat", "lstat", "fstat", "fstatat", "fstatat-dir", "statx", "statx-empty"}

// opsOn is every stat operation on each of names in dir.
func opsOn(dir string, names ...string) [][2]string {
	var ops [][2]string
	for _, n := range names {
		for _, op := range statOps {
			ops = append(ops, [2]string{op, filepath.Join(dir, n)})
		}
	}
	return ops
}

// With no owners to find (no record, no special files, no image), the
// handler answers every stat in the process, as the kernel does.
func TestHandlerStatsAsTheKernel(t *testing.T) {
	for _, mode := range handlerModes {
		t.Run(mode, func(t *testing.T) { testHandlerStatsAsTheKernel(t, mode) })
	}
}

// handlerModes: with getxattrat, and without (a container's profile).
var handlerModes = []string{"handler", "handler-noxattrat"}

func testHandlerStatsAsTheKernel(t *testing.T, mode string) {
	dir := statTree(t)
	h := newHarness(t, Data{})
	ops := opsOn(dir, "plain", "dir", "link", "fifo", "missing")
	native, _ := h.run(t, "native", ops)
	got, c := h.run(t, mode, ops)
	for i := range ops {
		if got[i] != native[i] {
			t.Errorf("%s %s: handler %q, kernel %q", ops[i][0], ops[i][1], got[i], native[i])
		}
	}
	if c.Fast != uint64(len(ops)) || c.Asked != 0 {
		t.Errorf("counters %+v, want all %d fast", c, len(ops))
	}
}

// What the handler does not decide it asks: a record it cannot decode, a
// device node record, a special file when the trace has special owners,
// any object when the image may give any an owner. Without a listener an
// asked call fails with ENOSYS, which is how the test sees it was asked.
// A record it decodes it writes in (1000:1000); an empty one is none.
func TestHandlerAsks(t *testing.T) {
	dir := statTree(t)
	names := []string{"plain", "dir", "link", "fifo", "owned", "empty", "unknown", "node", "missing"}
	for _, tc := range []struct {
		name  string
		data  Data
		asked map[string]bool // names whose stats ask
	}{
		{"record", Data{}, map[string]bool{"unknown": true, "node": true}},
		{"special", Data{Special: true}, map[string]bool{"unknown": true, "node": true, "fifo": true}},
		{"image", Data{FilterAll: true}, map[string]bool{"unknown": true, "node": true,
			"plain": true, "dir": true, "link": true, "fifo": true, "empty": true}},
	} {
		for _, mode := range handlerModes {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				h := newHarness(t, tc.data)
				ops := opsOn(dir, names...)
				native, _ := h.run(t, "native", ops)
				got, c := h.run(t, mode, ops)
				var wantAsked uint64
				for i, op := range ops {
					name := filepath.Base(op[1])
					asked := tc.asked[name]
					// stat and fstatat-dir follow the link to the file;
					// the others find the link itself, which holds no
					// user xattr: a special file's owner is the table's.
					if name == "link" {
						follows := op[0] == "stat" || op[0] == "fstatat-dir"
						asked = tc.name == "image" || (tc.name == "special" && !follows)
					}
					want := native[i]
					switch {
					case asked:
						wantAsked++
						want = fmt.Sprintf("%s %s: -ENOSYS", op[0], op[1])
					case name == "owned":
						want = strings.Replace(want, "uid=0 gid=0", "uid=1000 gid=1000", 1)
					}
					if got[i] != want {
						t.Errorf("%s: handler %q, want %q", op[0]+" "+name, got[i], want)
					}
				}
				if c.Asked != wantAsked || c.Fast+c.Asked != uint64(len(ops)) {
					t.Errorf("counters %+v, want %d asked of %d", c, wantAsked, len(ops))
				}
			})
		}
	}
}

// What programs do with signals leaves the handler working and the
// program's own view of its signals as the kernel's: its own SIGSYS
// handler, every signal blocked, a handler with a full mask, sigsuspend,
// ppoll and pselect with a full mask, every action reset, a thread, a
// fork, a vfork. Each prints what it saw, with and without the handler.
func TestHandlerSignals(t *testing.T) {
	dir := statTree(t)
	path := filepath.Join(dir, "plain")
	var ops [][2]string
	for _, op := range []string{"own-sigsys", "block-all", "fullmask-handler", "sigsuspend", "ppoll-mask",
		"pselect-mask", "epoll-pwait-mask", "reset-all", "thread", "fork", "vfork", "stat"} {
		ops = append(ops, [2]string{op, path})
	}
	h := newHarness(t, Data{})
	native, _ := h.run(t, "native", ops)
	got, c := h.run(t, "handler", ops)
	for i := range ops {
		if got[i] != native[i] {
			t.Errorf("%s: handler %q, kernel %q", ops[i][0], got[i], native[i])
		}
	}
	if c.Fast == 0 {
		t.Errorf("counters %+v: nothing answered by the handler", c)
	}
	t.Logf("kernel:\n%s", strings.Join(native, "\n"))
}

// The records the handler decodes itself it decodes as shim.DecodeOwner
// does; the others it asks for.
func TestHandlerDecodesAsTheModel(t *testing.T) {
	dir := t.TempDir()
	records := map[string][]byte{
		"root-explicit": shim.EncodeRootOwner(),
		"uid-only":      {0x08, 0xe8, 0x07},
		"gid-only":      {0x10, 0xe8, 0x07},
		"noid":          {0x08, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x10, 0x05},
		"large":         {0x08, 0xfe, 0xff, 0xff, 0xff, 0x0f},
		"wide":          {0x08, 0x80, 0x80, 0x80, 0x80, 0x10}, // beyond 32 bits: the low ones
		"twice":         {0x08, 0x01, 0x08, 0x02},
		"truncated":     {0x08, 0x80},
		"overflow":      {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
		"other-field":   {0x18, 0x01},
		"length-field":  {0x0a, 0x01, 0x00},
	}
	var ops [][2]string
	for name, rec := range records {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := unix.Setxattr(p, shim.OwnerXattr, rec, 0); err != nil {
			t.Fatal(err)
		}
		ops = append(ops, [2]string{"stat", p})
	}
	h := newHarness(t, Data{})
	got, _ := h.run(t, "handler", ops)
	for i, op := range ops {
		name := filepath.Base(op[1])
		if strings.HasSuffix(got[i], "-ENOSYS") {
			continue // asked: the model decides
		}
		o, err := shim.DecodeOwner(records[name])
		if err != nil {
			t.Errorf("%s: the handler answered %q for a record the model finds malformed (%v)", name, got[i], err)
			continue
		}
		if want := fmt.Sprintf("uid=%d gid=%d", o.UID, o.GID); !strings.Contains(got[i], want) {
			t.Errorf("%s: handler %q, the model's owner %s", name, got[i], want)
		}
	}
	for _, name := range []string{"root-explicit", "uid-only", "gid-only", "noid", "large", "twice"} {
		for i, op := range ops {
			if filepath.Base(op[1]) == name && strings.HasSuffix(got[i], "-ENOSYS") {
				t.Errorf("%s: asked, but the handler decodes such records", name)
			}
		}
	}
}
