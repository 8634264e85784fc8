package attach

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/shim"
)

// panickyMemory stands for a model bug: reading the tracee's memory panics.
type panickyMemory struct{}

func (panickyMemory) ReadAt([]byte, uint64) error  { panic("model bug") }
func (panickyMemory) WriteAt([]byte, uint64) error { panic("model bug") }

func TestEmulateSurvivesAModelPanic(t *testing.T) {
	var logs bytes.Buffer
	tr := &Tracer{log: slog.New(slog.NewTextHandler(&logs, nil))}
	th := &thread{tid: 4242}
	c := shim.Root(1<<41 - 1)
	// setgroups reads its list from memory once the checks pass.
	call := shim.Call{Nr: unix.SYS_SETGROUPS, Args: [6]uint64{2, 0x1000}}
	creds, out := tr.emulate(th, c, call, panickyMemory{}, env{t: tr, th: th})
	if out.Kind != shim.Run || out.Args != call.Args || !creds.Equal(c) {
		t.Fatalf("outcome %+v creds %v: want the call run as it is, credentials unchanged", out, creds)
	}
	if !strings.Contains(logs.String(), "emulation bug") || !strings.Contains(logs.String(), "model bug") {
		t.Errorf("no log line for the panic:\n%s", logs.String())
	}
}
