package shim

import (
	"testing"

	"golang.org/x/sys/unix"
)

// GoesOn is what the stub computes in the thread; the tracer's view of a
// fused plan depends on both agreeing.
func TestFuseRuleGoesOn(t *testing.T) {
	e := func(errno unix.Errno) int64 { return -int64(errno) }
	stat := FuseRule{Errno: unix.ENOSYS}
	chown := FuseRule{OnlySuccess: true, Errno: unix.ENODATA}
	chownRoot := FuseRule{OnlySuccess: true, Errno: unix.ENODATA, Also: []unix.Errno{unix.EPERM, unix.ENOTSUP}}
	for _, c := range []struct {
		name string
		rule FuseRule
		res  int64
		want bool
	}{
		{"stat: no xattr", stat, e(unix.ENODATA), true},
		{"stat: no such file", stat, e(unix.ENOENT), true},
		{"stat: empty xattr", stat, 0, true},
		{"stat: an owner to decode", stat, 4, false},
		{"stat: fallback errno", stat, e(unix.ENOSYS), false},
		{"stat without fallback: ENOSYS", FuseRule{}, e(unix.ENOSYS), true},
		{"chown: xattr written", chown, 0, true},
		{"chown: nothing to remove", chown, e(unix.ENODATA), true},
		{"chown: symlink", chown, e(unix.EPERM), false},
		{"chown: missing", chown, e(unix.ENOENT), false},
		{"chown 0:0: symlink", chownRoot, e(unix.EPERM), true},
		{"chown 0:0: no xattr support", chownRoot, e(unix.ENOTSUP), true},
		{"chown 0:0: missing", chownRoot, e(unix.ENOENT), false},
		{"chown 0:0: read-only", chownRoot, e(unix.EROFS), false},
	} {
		if got := c.rule.GoesOn(c.res); got != c.want {
			t.Errorf("%s: GoesOn(%d) = %v, want %v", c.name, c.res, got, c.want)
		}
	}
}
