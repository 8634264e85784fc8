package inprocess

import "github.com/remainroot/remainroot/attach/seccomp"

// Layer is the filter layer of a process whose handler is in place: the
// table's calls trap to the handler unless the handler makes them, and its
// asked calls go to the supervisor.
func Layer() seccomp.Layer {
	return seccomp.Layer{Traps: Traps(), CodeAddr: HandlerAddr, CodeSize: CodeSize,
		AskIP: AskIP, Data: TrapData}
}
