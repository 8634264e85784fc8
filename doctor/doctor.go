// Package doctor is `remainroot doctor`: every check of the host's setup
// (the kernel, podman, its storage and network, the hooks directories, the
// OCI runtimes), each a verdict of ok, warn or fail with a one-sentence
// remedy, and how a list of them is printed. It judges facts that package
// attach (the kernel's seccomp and ptrace facilities, Yama, the LSMs) and
// package config (containers.conf, storage.conf, the hooks.d file names)
// export, and what it finds by running podman and the runtimes.
package doctor

import "fmt"

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
