package shim

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestKernelAnswersChown(t *testing.T) {
	onlyRoot := func(id uint32, group bool) bool { return id == 0 }
	chown, _ := Lookup(unix.SYS_FCHOWNAT)
	setuid, _ := Lookup(unix.SYS_SETUID)
	noid := uint64(NoID)
	for _, c := range []struct {
		name     string
		s        Syscall
		uid, gid uint64
		want     bool
	}{
		{"no change", chown, noid, noid, true},
		{"to root", chown, 0, 0, true},
		{"uid to root only", chown, 0, noid, true},
		{"gid to root only", chown, noid, 0, true},
		{"unmapped uid", chown, 1000, 0, false},
		{"unmapped gid", chown, noid, 1000, false},
		{"not a chown", setuid, 0, 0, false},
	} {
		call := Call{Nr: c.s.Nr, Args: [6]uint64{uint64(uint32(0xffffff9c)), 0, c.uid, c.gid, 0}}
		if got := KernelAnswersChown(c.s, call, onlyRoot); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
