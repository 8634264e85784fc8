package notify

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/attach/route"
	"github.com/remainroot/remainroot/attach/seccomp"
	"github.com/remainroot/remainroot/shim"
)

// TestDeliver checks what a notification makes of each outcome, and that
// what it cannot deliver is left for a ptrace stop.
func TestDeliver(t *testing.T) {
	n := &seccomp.Notif{ID: 7, Pid: 42, Nr: unix.SYS_SETUID, Args: [6]uint64{1000}}
	rewritten := n.Args
	rewritten[0] = 0
	for _, tc := range []struct {
		name string
		out  shim.Outcome
		want seccomp.NotifResp
		err  error
	}{
		{"value", shim.Outcome{Kind: shim.Return, Value: 3}, seccomp.NotifResp{ID: 7, Val: 3}, nil},
		{"errno", shim.Outcome{Kind: shim.Return, Value: -int64(unix.EPERM)}, seccomp.NotifResp{ID: 7, Error: -int32(unix.EPERM)}, nil},
		{"run as is", shim.Outcome{Kind: shim.Run, Args: n.Args}, seccomp.NotifResp{ID: 7, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}, nil},
		{"rewritten", shim.Outcome{Kind: shim.Run, Args: rewritten}, seccomp.NotifResp{ID: 7}, route.ErrNeedsStop},
		{"steps", shim.Outcome{Kind: shim.Steps}, seccomp.NotifResp{ID: 7}, route.ErrNeedsStop},
	} {
		c, ans := Arrive(n)
		if c.Tid != 42 || c.Call.Nr != unix.SYS_SETUID || c.Call.Args != n.Args {
			t.Fatalf("Arrive: call %+v", c)
		}
		if err := route.Deliver(ans, tc.out); !errors.Is(err, tc.err) {
			t.Errorf("%s: Deliver: %v, want %v", tc.name, err, tc.err)
		}
		if ans.Resp != tc.want {
			t.Errorf("%s: response %+v, want %+v", tc.name, ans.Resp, tc.want)
		}
	}
	_, ans := Arrive(n)
	ans.Restart()
	if want := (seccomp.NotifResp{ID: 7, Error: -ptrace.ERestartNoIntr}); ans.Resp != want {
		t.Errorf("Restart: response %+v, want %+v", ans.Resp, want)
	}
}
