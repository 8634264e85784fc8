// Package stress shows, on a machine made busy on purpose, that remainroot
// never hangs, never leaves a process behind and exits with the right
// status (issue 16): many runs of short programs under `remainroot run`
// (getters and setters, threads that exit in the middle of notified calls,
// commands, remainroot's own helpers and any process of remainroot's own,
// a child before its exec included, killed at a random moment),
// `remainroot run` ending on a signal
// while an unattached grandchild lives on, and many supervisor sessions of
// each runtime shape.
//
// Every scenario runs N times (REMAINROOT_STRESS_N, 60 by default, which
// `go test ./...` runs; `make stress` sets 2,000) with every CPU saturated
// by busy loops the test starts and stops. The test process is a child
// subreaper: whatever a run leaves behind becomes its child, so a leftover
// is found by ancestry, never mistaken for another test's process.
package stress

import (
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	// Orphans of the runs (a grandchild, a fallback answerer, a
	// supervisor) are reparented here, where leftovers are looked for.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		panic("PR_SET_CHILD_SUBREAPER: " + err.Error())
	}
	os.Exit(m.Run())
}

// count reads a positive count from the environment variable name, or
// gives def.
func count(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive count", name, s)
	}
	return n
}

// runs is how many times each scenario runs.
func runs(t *testing.T) int { return count(t, "REMAINROOT_STRESS_N", 60) }

// sessionsPerShape is how many supervisor sessions each runtime shape gets.
func sessionsPerShape(t *testing.T) int { return count(t, "REMAINROOT_STRESS_SESSIONS", 10) }
