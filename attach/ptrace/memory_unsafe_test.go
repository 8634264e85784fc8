package ptrace

import (
	"errors"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestMemoryHonoursProtections: tracee memory is read and written as the
// kernel's copy_from_user and copy_to_user would for the thread itself: a
// PROT_NONE page cannot be read, a read-only page cannot be written, and
// both fail with EFAULT (issue 11, item 1). The test process is its own
// "tracee": process_vm_readv needs no ptrace for oneself.
func TestMemoryHonoursProtections(t *testing.T) {
	none := mapPage(t, unix.PROT_NONE)
	ro := mapPage(t, unix.PROT_READ)
	rw := mapPage(t, unix.PROT_READ|unix.PROT_WRITE)
	m := Memory{os.Getpid()}
	buf := []byte("remainroot")
	if err := m.ReadAt(buf, none); !errors.Is(err, unix.EFAULT) {
		t.Errorf("read of a PROT_NONE page: %v, want EFAULT", err)
	}
	if err := m.WriteAt(buf, none); !errors.Is(err, unix.EFAULT) {
		t.Errorf("write to a PROT_NONE page: %v, want EFAULT", err)
	}
	if err := m.WriteAt(buf, ro); !errors.Is(err, unix.EFAULT) {
		t.Errorf("write to a read-only page: %v, want EFAULT", err)
	}
	if err := m.ReadAt(buf, ro); err != nil {
		t.Errorf("read of a read-only page: %v", err)
	}
	// A piece that runs from a good page into a bad one faults too.
	two, err := unix.Mmap(-1, 0, 8192, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(two)
	if err := unix.Mprotect(two[4096:], unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	if err := m.ReadAt(make([]byte, 64), uint64(uintptr(unsafe.Pointer(&two[4096-32])))); !errors.Is(err, unix.EFAULT) {
		t.Errorf("read across into a PROT_NONE page: %v, want EFAULT", err)
	}
	if err := m.WriteAt(buf, rw); err != nil {
		t.Errorf("write to a writable page: %v", err)
	}
	back := make([]byte, len(buf))
	if err := m.ReadAt(back, rw); err != nil || string(back) != string(buf) {
		t.Errorf("read back %q, %v", back, err)
	}
	// The tracer's own code page is written whatever its protections.
	if err := WriteCode(os.Getpid(), buf, ro); err != nil {
		t.Errorf("writeCode to a read-only page: %v", err)
	}
	if err := m.ReadAt(back, ro); err != nil || string(back) != string(buf) {
		t.Errorf("code page reads %q, %v", back, err)
	}
}

// mapPage maps one anonymous page with protections prot for the test.
func mapPage(t *testing.T, prot int) uint64 {
	t.Helper()
	b, err := unix.Mmap(-1, 0, 4096, prot, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(b) })
	return uint64(uintptr(unsafe.Pointer(&b[0])))
}
