package hook

import (
	"encoding/json"
	"fmt"
	"io"
)

// TracerRole is the hidden first argument that makes remainroot the
// detached tracer the hook starts (a re-exec of the same binary).
const TracerRole = "__trace"

// readyFd is where the tracer finds the pipe back to the hook.
const readyFd = 3

// message is what the tracer tells the hook, one JSON object, once.
type message struct {
	// Ready: every thread of init is seized and the filter installed.
	Ready bool `json:"ready"`
	// Error is one line naming the cause and the remedy.
	Error string `json:"error,omitempty"`
}

func sendMessage(w io.Writer, m message) error {
	return json.NewEncoder(w).Encode(m)
}

func readMessage(r io.Reader) (message, error) {
	var m message
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		if err == io.EOF {
			return m, fmt.Errorf("the tracer exited without reporting")
		}
		return m, fmt.Errorf("read the tracer's report: %w", err)
	}
	return m, nil
}
