package procfs

import (
	"os"
	"slices"
	"testing"
)

func TestParseNSpid(t *testing.T) {
	ids, err := ParseNSpid("Name:\tx\nTgid:\t7\nNSpid:\t4711\t12\t1\nNSsid:\t1\n")
	if err != nil || !slices.Equal(ids, []int{4711, 12, 1}) {
		t.Errorf("got %v, %v", ids, err)
	}
	if _, err := ParseNSpid("Name:\tx\n"); err == nil {
		t.Error("no NSpid line: no error")
	}
	if _, err := ParseNSpid("NSpid:\t4711\tx\n"); err == nil {
		t.Error("bad NSpid line: no error")
	}
}

func TestOwnTidHere(t *testing.T) {
	// The test runs in the pid namespace of its procfs: its own id.
	if got := OwnTid(os.Getpid()); got != os.Getpid() {
		t.Errorf("ownTid(%d) = %d", os.Getpid(), got)
	}
}
