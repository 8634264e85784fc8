// Package route is the shape every route from a traced thread's system
// call to the model has. A route brings a call to the tracer (a Call: the
// thread, the call, the thread's memory) and delivers the model's outcome
// back by its own means (an Answer: registers at a ptrace stop, a response
// to a seccomp notification). A route that cannot deliver an outcome says
// so (ErrNeedsStop), and the tracer sends the call to one that can.
//
// The routes are packages of their own: ptracestop (the thread stopped by
// ptrace at a seccomp stop, or on its way out of an escalated call) and
// notify (a seccomp user notification). Which route answers a call, and
// the thread's credentials, are the tracer's (package attach); none of the
// routes imports it.
package route

import (
	"errors"

	"github.com/remainroot/remainroot/shim"
)

// Call is an emulated system call as a route brings it to the tracer.
type Call struct {
	// Tid is the calling thread, as the tracer names it.
	Tid int
	// Call is the call's number and arguments.
	Call shim.Call
	// Memory is the calling thread's memory, for the model to read the
	// call's arguments and write its results.
	Memory shim.Memory
}

// Answer delivers the model's outcome for one call by the route it came by.
// Each method is one kind of shim.Outcome.
type Answer interface {
	// Return makes the call return value without running it.
	Return(value int64) error
	// Run lets the kernel run the call with args: its own arguments or
	// rewritten ones.
	Run(args [6]uint64) error
	// Steps has the thread make plan's system calls, and the call return
	// the plan's final value.
	Steps(plan shim.Plan) error
}

// ErrNeedsStop is what an Answer returns for an outcome its route cannot
// deliver (arguments to rewrite, steps to run, from a notification): the
// thread must be brought to a ptrace stop.
var ErrNeedsStop = errors.New("route: the outcome needs the thread at a ptrace stop")

// Deliver hands out to a by its kind.
func Deliver(a Answer, out shim.Outcome) error {
	switch out.Kind {
	case shim.Return:
		return a.Return(out.Value)
	case shim.Steps:
		return a.Steps(out.Plan)
	}
	return a.Run(out.Args)
}
