package seccomp

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/stub"
	"github.com/remainroot/remainroot/shim"
)

// archNotifiedCases are the x86-64 calls of TestFilterNotifiedFileCalls.
func archNotifiedCases(atEmpty, marker uint64) []filterCase {
	const notify = unix.SECCOMP_RET_USER_NOTIF
	marked := uint64(shim.StatMarker)
	return []filterCase{
		{"newfstatat AT_EMPTY_PATH", unix.SYS_NEWFSTATAT, [6]uint64{3, 0, 0, atEmpty}, notify},
		{"newfstatat path", unix.SYS_NEWFSTATAT, [6]uint64{3, 0, 0, unix.AT_SYMLINK_NOFOLLOW}, trace},
		{"newfstatat StatMarker", unix.SYS_NEWFSTATAT, [6]uint64{3, 0, 0, marked}, allow},
		{"newfstatat StatMarker AT_EMPTY_PATH", unix.SYS_NEWFSTATAT, [6]uint64{3, 0, 0, marked | atEmpty}, allow},
		{"newfstatat AT_EMPTY_PATH escalated", unix.SYS_NEWFSTATAT, [6]uint64{3, 0, 0, atEmpty, 0, marker}, trace},
		{"open O_CREAT", unix.SYS_OPEN, [6]uint64{0, unix.O_CREAT}, notify},
		{"open O_RDONLY", unix.SYS_OPEN, [6]uint64{0, unix.O_RDONLY}, allow},
		{"creat", unix.SYS_CREAT, [6]uint64{0, 0o644}, notify},
		{"mkdir escalated", unix.SYS_MKDIR, [6]uint64{0, 0o755, 0, 0, 0, marker}, trace},
		{"symlink", unix.SYS_SYMLINK, [6]uint64{0, 0}, notify},
	}
}

// In mode full, calls made from the stub's page run (they are a fused
// plan's steps) and the stub's trap call stops; elsewhere nothing changes.
func TestFilterStubPage(t *testing.T) {
	at := func(nr uint32, ip uint64, args [6]uint64) []byte {
		b := seccompDataArgs(AuditArch, nr, args)
		binary.BigEndian.PutUint32(b[seccompIP:], uint32(ip))
		binary.BigEndian.PutUint32(b[seccompIP+4:], uint32(ip>>32))
		return b
	}
	path := [6]uint64{0xffffffffffffff9c, 0x1000, 0x2000, 0} // AT_FDCWD
	for _, c := range []struct {
		name string
		f    Filter
		nr   uint32
		ip   uint64
		args [6]uint64
		want uint32
	}{
		{"newfstatat from the stub", SetterFilter.WithFiles(), unix.SYS_NEWFSTATAT, stub.Addr + 0x7f, path, allow},
		{"getxattr from the stub", SetterFilter.WithFiles().WithNotify(), unix.SYS_GETXATTR, stub.Addr + 0x24, path, allow},
		{"setresuid from the stub", SetterFilter.WithFiles(), unix.SYS_SETRESUID, stub.Addr + 0x24, [6]uint64{1, 1, 1}, allow},
		{"setxattr from the stub (a fused chown)", SetterFilter.WithFiles(), unix.SYS_SETXATTR, stub.Addr + 0x24, path, allow},
		{"setxattr elsewhere in mode full", SetterFilter.WithFiles(), unix.SYS_SETXATTR, 0x7f0000001234, path, trace},
		{"newfstatat elsewhere", SetterFilter.WithFiles(), unix.SYS_NEWFSTATAT, 0x7f0000001234, path, trace},
		{"newfstatat past the page", SetterFilter.WithFiles(), unix.SYS_NEWFSTATAT, stub.Addr + stub.PageSize, path, trace},
		{"newfstatat below the page", SetterFilter.WithFiles(), unix.SYS_NEWFSTATAT, stub.Addr - 2, path, trace},
		{"newfstatat, same low half", SetterFilter.WithFiles(), unix.SYS_NEWFSTATAT, 0x7f0000000020, path, trace},
		{"trap from the stub", SetterFilter.WithFiles(), stub.TrapNr, stub.Addr + 0x150, [6]uint64{}, trace},
		{"trap from the stub, listener", SetterFilter.WithFiles().WithNotify(), stub.TrapNr, stub.Addr + 0x150, [6]uint64{}, trace},
		{"getpid elsewhere", SetterFilter.WithFiles().WithNotify(), stub.TrapNr, 0x401000, [6]uint64{}, allow},
		{"getpid past the page", SetterFilter.WithFiles(), stub.TrapNr, stub.Addr + stub.PageSize, [6]uint64{}, allow},
		{"trap in mode creds", SetterFilter, stub.TrapNr, stub.Addr + 0x150, [6]uint64{}, allow},
		{"setresuid from the stub page in mode creds", SetterFilter, unix.SYS_SETRESUID, stub.Addr + 0x24, [6]uint64{1, 1, 1}, trace},
	} {
		if got := runFilterData(t, c.f, at(c.nr, c.ip, c.args)); got != c.want {
			t.Errorf("%s: got %#x, want %#x", c.name, got, c.want)
		}
	}
}

// compatArch is the architecture of int 0x80 calls, which the kernel's
// action cache covers too.
const compatArch = unix.AUDIT_ARCH_I386

// sampleIPs are instruction pointers for TestFilterSameVerdicts: the
// stub's page, its bounds, and elsewhere.
var sampleIPs = []uint64{0, 0x401000, 0x7f0000001234, 0x7f0000000020, ^uint64(0),
	stub.Addr - 1, stub.Addr, stub.Addr + 0x24, stub.Addr + 0x150, stub.Addr + stub.PageSize - 1,
	stub.Addr + stub.PageSize, stub.Addr | 0xffffffff, stub.Addr + 1<<32}

// The filter tests only the end of the stub's page: its start is the
// start of a 4 GiB block.
func TestStubPageStartsA4GiBBlock(t *testing.T) {
	if stub.Addr&0xffffffff != 0 || stub.PageSize == 0 || stub.PageSize > 1<<20 {
		t.Errorf("stub page at %#x, %d bytes: the filter's test of the page does not hold", stub.Addr, stub.PageSize)
	}
}
