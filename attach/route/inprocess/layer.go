package inprocess

import (
	"github.com/remainroot/remainroot/attach/seccomp"
	"github.com/remainroot/remainroot/attach/stub"
	"github.com/remainroot/remainroot/shim"
)

// Layer is the filter layer of a process whose handler is in place: the
// table's calls trap to the handler unless the handler makes them, the
// stub makes them (a fused plan's steps), or they carry the tracer's
// marker (a plan's other steps, an escalated call). The handler's asked
// calls are the process's own filter's to notify.
func Layer() seccomp.Layer {
	return seccomp.Layer{Traps: Traps(), CodeAddr: HandlerAddr, CodeSize: CodeSize,
		Data:    TrapData,
		Also:    []seccomp.CodeRange{{Addr: stub.Addr, Size: stub.PageSize}},
		Markers: []uint64{shim.InjectMarker, shim.EscalateMarker}}
}
