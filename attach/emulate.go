package attach

import (
	"fmt"
	"runtime/debug"

	"github.com/remainroot/remainroot/shim"
)

// emulate asks the model for call's outcome. A panic in the model (a bug:
// the fuzz targets look for them) must not end the trace, which would kill
// every tracee (PTRACE_O_EXITKILL): it is logged, and the kernel runs the
// call as it is, which grants nothing the container did not have.
func (t *Tracer) emulate(th *thread, c shim.Creds, call shim.Call, mem shim.Memory, e shim.Env) (creds shim.Creds, out shim.Outcome) {
	defer func() {
		if v := recover(); v != nil {
			t.log.Error("emulation bug: the kernel runs the call as it is", "tid", th.tid,
				"call", callName(call.Nr), "args", fmt.Sprint(call.Args), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			creds, out = c, shim.Outcome{Kind: shim.Run, Args: call.Args}
		}
	}()
	return shim.Emulate(c, call, mem, e)
}
