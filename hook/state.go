// Package hook is remainroot's OCI runtime hook: it reads the container
// state a runtime passes on stdin, attaches the tracer to the container's
// init at the createRuntime stage, and explains in one line why it could
// not. It also writes the hooks.d document that makes podman and CRI-O run
// it for containers annotated with io.remainroot.mode.
package hook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// MaxStateSize bounds how much of stdin ParseState reads. Real states are
// a few kilobytes; the bulk is annotations.
const MaxStateSize = 1 << 20

// State is the container state a runtime writes on a hook's stdin.
type State struct {
	OCIVersion  string
	ID          string
	Status      string
	Pid         int
	Bundle      string
	Annotations map[string]string
}

// ParseState reads a container state from r. It is lenient: unknown fields
// (crun's "root") are ignored and any status is accepted (runc says
// "creating" at createRuntime, crun "created"). Only a positive pid is
// required. Errors are one line starting with "container state on stdin:".
func ParseState(r io.Reader) (State, error) {
	var st State
	data, err := io.ReadAll(io.LimitReader(r, MaxStateSize+1))
	if err != nil {
		return st, stateErr(fmt.Errorf("read: %w", err))
	}
	if len(data) > MaxStateSize {
		return st, stateErr(fmt.Errorf("larger than %d bytes", MaxStateSize))
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return st, stateErr(errors.New("empty input (is this program being run as an OCI hook?)"))
	}
	var s specs.State
	if err := json.Unmarshal(data, &s); err != nil {
		return st, stateErr(fmt.Errorf("invalid JSON: %w", err))
	}
	if s.Pid <= 0 {
		if s.Pid == 0 {
			return st, stateErr(errors.New("no pid (the hook needs the container's init pid; use stage createRuntime)"))
		}
		return st, stateErr(fmt.Errorf("invalid pid %d", s.Pid))
	}
	return State{
		OCIVersion:  s.Version,
		ID:          s.ID,
		Status:      string(s.Status),
		Pid:         s.Pid,
		Bundle:      s.Bundle,
		Annotations: s.Annotations,
	}, nil
}

// stateErr prefixes err with where the state came from.
func stateErr(err error) error {
	return fmt.Errorf("container state on stdin: %w", err)
}
