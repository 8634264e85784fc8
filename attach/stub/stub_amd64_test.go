package stub

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/remainroot/remainroot/shim"
)

// The stub's bytes are what its source assembles to (GNU as, from
// binutils, which the C compiler the tests need brings along).
func TestStubBytesMatchSource(t *testing.T) {
	dir := t.TempDir()
	src, obj, bin := filepath.Join(dir, "stub.S"), filepath.Join(dir, "stub.o"), filepath.Join(dir, "stub.bin")
	if err := os.WriteFile(src, []byte(source), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, argv := range [][]string{{"as", "-o", obj, src}, {"objcopy", "-O", "binary", "-j", ".text", obj, bin}} {
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", argv, err, out)
		}
	}
	got, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, Code) {
		t.Fatalf("Code (%d bytes) is not what source assembles to (%d bytes): regenerate it", len(Code), len(got))
	}
	if len(Code) > PageSize {
		t.Fatalf("stub of %d bytes does not fit its page", len(Code))
	}
}

// The frame offsets the stub's source uses are exactly the ones
// Frame and onStubTrap use.
func TestStubFrameLayout(t *testing.T) {
	want := map[int]bool{frameNr1: true, frameNr2: true, FrameRes1: true, frameErrno: true,
		frameSavedR12: true, frameReturnIP: true, frameFlags: true, frameOnlySuccess: true,
		frameModeAddr: true, FrameRes2: true, FrameSecondDone: true, FrameBusy: true,
		frameAlso: true, frameAlso + 8: true, frameInoAddr: true, frameFilterShift: true, frameFilterAddr: true}
	for i := range 6 {
		want[frameArgs1+8*i], want[frameArgs2+8*i], want[frameSavedArgs+8*i] = true, true, true
	}
	used := map[int]bool{}
	for _, m := range regexp.MustCompile(`\[r12(?:\+(\d+))?\]`).FindAllStringSubmatch(source, -1) {
		off := 0
		if m[1] != "" {
			off, _ = strconv.Atoi(m[1])
		}
		off &^= 7 // a byte of a field (the flags' second byte)
		used[off] = true
		if !want[off] {
			t.Errorf("the stub uses [r12+%d], which is no frame field", off)
		}
		if off+8 > FrameSize {
			t.Errorf("[r12+%d] lies outside the %d-byte frame", off, FrameSize)
		}
	}
	for off := range want {
		if !used[off] {
			t.Errorf("frame field at %d unused by the stub", off)
		}
	}
	if FrameSize+shim.ScratchSize > SlotSize {
		t.Errorf("a slot of %d bytes cannot hold a frame and a scratch area", SlotSize)
	}
}

// The stub's hash is Filter's: the same multiplier, shifted by the
// frame's shift, and the bit tested where Maybe looks.
func TestStubFilterHashIsFilters(t *testing.T) {
	mul := "mov rcx, 0x" + strconv.FormatUint(filterHash, 16)
	for _, insn := range []string{mul, "imul rsi, rcx", "shr rsi, cl", "bt [rdx], rsi"} {
		if !bytes.Contains([]byte(source), []byte(insn)) {
			t.Errorf("the stub's source has no %q", insn)
		}
	}
}
