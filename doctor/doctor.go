// Package doctor is the vocabulary of `remainroot doctor`: the result of
// one check of the host's setup (ok, warn or fail, with a one-sentence
// remedy) and how a list of them is printed. The checks themselves live
// with what they check: kernel and ptrace facts in package attach, podman
// and runtime configuration in package hook.
package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Status is a check's verdict.
type Status string

const (
	// OK: nothing to do.
	OK Status = "ok"
	// Warn: remainroot works, but something is slower, limited or worth
	// knowing; the remedy says what to do about it.
	Warn Status = "warn"
	// Fail: containers will not work as intended until the remedy is applied.
	Fail Status = "fail"
)

// Check is the result of one check.
type Check struct {
	Name    string `json:"name"`             // what was checked, e.g. "kernel: seccomp user notification"
	Status  Status `json:"status"`           // ok, warn or fail
	Message string `json:"message"`          // what was found
	Remedy  string `json:"remedy,omitempty"` // for warn and fail: what to do, one sentence
}

// Pass, Warning and Failure build checks.
func Pass(name, format string, args ...any) Check {
	return Check{Name: name, Status: OK, Message: fmt.Sprintf(format, args...)}
}

func Warning(name, remedy, format string, args ...any) Check {
	return Check{Name: name, Status: Warn, Message: fmt.Sprintf(format, args...), Remedy: remedy}
}

func Failure(name, remedy, format string, args ...any) Check {
	return Check{Name: name, Status: Fail, Message: fmt.Sprintf(format, args...), Remedy: remedy}
}

// Failed reports whether any check failed.
func Failed(checks []Check) bool {
	for _, c := range checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

// Count returns how many checks have status s.
func Count(checks []Check, s Status) int {
	n := 0
	for _, c := range checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

// WriteText prints one line per check, "ok|warn|fail  NAME: MESSAGE", and
// for warnings and failures an indented "-> REMEDY" line, then a summary.
func WriteText(w io.Writer, checks []Check) error {
	var b strings.Builder
	for _, c := range checks {
		fmt.Fprintf(&b, "%-4s  %s: %s\n", c.Status, c.Name, c.Message)
		if c.Remedy != "" && c.Status != OK {
			fmt.Fprintf(&b, "      -> %s\n", c.Remedy)
		}
	}
	fmt.Fprintf(&b, "%d ok, %d warn, %d fail\n", Count(checks, OK), Count(checks, Warn), Count(checks, Fail))
	_, err := io.WriteString(w, b.String())
	return err
}

// Report is the JSON document `remainroot doctor --json` prints.
type Report struct {
	Version string  `json:"version"` // remainroot's version
	UID     int     `json:"uid"`     // the user doctor ran as
	Checks  []Check `json:"checks"`
	OK      int     `json:"ok"`
	Warn    int     `json:"warn"`
	Fail    int     `json:"fail"`
}

// WriteJSON prints checks as an indented Report.
func WriteJSON(w io.Writer, version string, uid int, checks []Check) error {
	if checks == nil {
		checks = []Check{}
	}
	r := Report{Version: version, UID: uid, Checks: checks,
		OK: Count(checks, OK), Warn: Count(checks, Warn), Fail: Count(checks, Fail)}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode doctor report: %w", err)
	}
	return nil
}
