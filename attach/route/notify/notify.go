// Package notify is the route of a call that comes as a seccomp user
// notification (SECCOMP_RET_USER_NOTIF): the thread waits in the kernel
// while the tracer answers on the listener, and is never stopped. The
// answer is a response (seccomp.NotifResp): a value, or the call run by
// the kernel as it is. Arguments to rewrite and steps to run it cannot
// deliver (route.ErrNeedsStop): the tracer then answers Restart and
// escalates the call to a ptrace stop.
package notify

import (
	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/attach/route"
	"github.com/remainroot/remainroot/attach/seccomp"
	"github.com/remainroot/remainroot/shim"
)

// Answer is the response to one notification, Resp, to send once the
// tracer has decided it (seccomp.Send). Left as it is made, Resp carries
// no answer: the kernel discards it (the thread is gone).
type Answer struct {
	Resp seccomp.NotifResp
	args [6]uint64 // the call's own
}

var _ route.Answer = (*Answer)(nil)

// Arrive returns the call notification n brings and its answer.
func Arrive(n *seccomp.Notif) (route.Call, *Answer) {
	tid := int(n.Pid)
	c := route.Call{Tid: tid, Call: shim.Call{Nr: uintptr(n.Nr), Args: n.Args}, Memory: ptrace.Memory{Tid: tid}}
	return c, &Answer{Resp: seccomp.NotifResp{ID: n.ID}, args: n.Args}
}

// Return makes the call return value.
func (a *Answer) Return(value int64) error {
	a.Resp.Flags = 0
	if value < 0 {
		a.Resp.Error = int32(value)
	} else {
		a.Resp.Val = value
	}
	return nil
}

// Run lets the kernel run the call if args are its own; rewritten
// arguments need a ptrace stop.
func (a *Answer) Run(args [6]uint64) error {
	if args != a.args {
		return route.ErrNeedsStop
	}
	a.Continue()
	return nil
}

// Steps needs a ptrace stop.
func (a *Answer) Steps(shim.Plan) error { return route.ErrNeedsStop }

// Continue lets the kernel run the call as it is, without the model: a
// call not emulated, or one whose emulation failed.
func (a *Answer) Continue() {
	a.Resp.Flags = unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE
}

// Restart answers -ERESTARTNOINTR: the thread leaves the call with it
// still to make, and a ptrace stop on its way out (a signal the tracer
// sent, or its PTRACE_INTERRUPT) lets the tracer answer it there.
func (a *Answer) Restart() {
	a.Resp.Flags, a.Resp.Error, a.Resp.Val = 0, -ptrace.ERestartNoIntr, 0
}
