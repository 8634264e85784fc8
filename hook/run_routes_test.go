package hook

import (
	"bytes"
	"strings"
	"testing"

	"github.com/remainroot/remainroot/config"
)

// A container whose config the precreate hook rewrote is its supervisor's:
// the createRuntime hook starts no tracer (the pid does not even exist).
func TestRunLeavesSupervisedContainers(t *testing.T) {
	state := `{"ociVersion":"1.0.2","id":"c","status":"creating","pid":999999999,"bundle":"/nonexistent",` +
		`"annotations":{"io.remainroot.mode":"creds","io.remainroot.supervisor":"/run/remainroot/sup-x.sock"}}`
	var stderr bytes.Buffer
	if code := Run(strings.NewReader(state), &stderr); code != 0 || stderr.Len() != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

// The build hooks directory's hook takes its mode from its arguments: a
// RUN container has no annotation, and the hook goes on to the container
// (here, whose pid is gone: the hook's own error, not a missing annotation).
func TestRunWithModeNeedsNoAnnotation(t *testing.T) {
	state := `{"ociVersion":"1.0.2","id":"c","status":"creating","pid":999999999,"bundle":"/nonexistent"}`
	var stderr bytes.Buffer
	m := config.ModeCreds
	code := RunWithMode(&m, strings.NewReader(state), &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "container init 999999999 is gone") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := Run(strings.NewReader(state), &stderr); code == 0 || !strings.Contains(stderr.String(), "annotation io.remainroot.mode is missing") {
		t.Fatalf("without --mode: exit %d, stderr %q", code, stderr.String())
	}
}
