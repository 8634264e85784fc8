package integration

// `remainroot attach PID` on a running multi-threaded process whose threads
// are blocked in system calls.

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// progAttachScript runs in one single-id user namespace (the tracer must
// be in the target's user namespace): it starts the target ($2) with its
// stdin on a fifo, waits for it to print "ready" (its threads are then
// blocked), attaches `$1 attach` to it when $3 is "attach" and waits until
// every thread of the target has a tracer (and, for at most 2 s, a seccomp
// filter), writes a line to the target's stdin, waits for the target and
// then for the attacher, and prints their statuses and then the target's
// output.
const progAttachScript = `RR=$1 PROG=$2 MODE=$3
mkfifo in || exit 90
"$PROG" < in > out 2>&1 &
P=$!
exec 3> in
n=0
until grep -q '^ready$' out 2>/dev/null; do
	n=$((n+1))
	if [ $n -gt 200 ]; then echo "FAIL: the target never printed ready"; cat out; kill -9 $P; exit 91; fi
	sleep 0.05
done
if [ "$MODE" = attach ]; then
	"$RR" attach $P > attach.out 2>&1 &
	A=$!
	n=0
	while :; do
		untraced=0
		for s in /proc/$P/task/*/status; do
			tp=$(awk '/^TracerPid:/ {print $2}' "$s" 2>/dev/null)
			if [ "$tp" = 0 ]; then untraced=$((untraced+1)); fi
		done
		[ $untraced = 0 ] && break
		n=$((n+1))
		if [ $n -gt 200 ]; then
			echo "FAIL: $untraced threads still untraced 10 s after attach"
			cat attach.out; kill -9 $P $A; exit 92
		fi
		sleep 0.05
	done
	# If the tracer filters with seccomp, wait (at most 2 s) until every
	# thread has the filter, so that the attach is complete.
	n=0
	while [ $n -lt 40 ]; do
		unfiltered=0
		for s in /proc/$P/task/*/status; do
			sc=$(awk '/^Seccomp:/ {print $2}' "$s" 2>/dev/null)
			if [ "$sc" != 2 ]; then unfiltered=$((unfiltered+1)); fi
		done
		[ $unfiltered = 0 ] && break
		n=$((n+1))
		sleep 0.05
	done
	echo attached
fi
echo go >&3
exec 3>&-
wait $P
echo "target exit=$?"
if [ "$MODE" = attach ]; then
	t0=$(date +%s%N)
	wait $A
	echo "attach exit=$?"
	echo "attach lag ms=$((($(date +%s%N) - t0) / 1000000))"
	cat attach.out >&2
fi
echo "--- target output"
cat out
`

// TestAttachRunningProcess attaches to a process whose threads are blocked
// in read() on a pipe, nanosleep(), a futex wait, and (main) read() on
// stdin; the process then makes glibc setgroups/setresgid/setresuid calls.
// Under `remainroot attach` the calls succeed and every thread reports the
// new ids, no blocked call was disturbed (no EINTR, the nanosleep slept its
// full 3 s and was traced while sleeping), and remainroot exits 0 promptly
// after the target. Bare, the calls fail.
func TestAttachRunningProcess(t *testing.T) {
	rr := progSetup(t, "mkfifo", "awk", "date")
	bin := progCompileC(t, "attach_target.c")
	const timeout = 40 * time.Second
	ids0 := " uid=0,0,0 gid=0,0,0 groups=\n"
	ids1000 := " uid=1000,1000,1000 gid=1000,1000,1000 groups=1000\n"

	// Bare: no tracer, the calls fail.
	native, ps := progRun(t, testenv.SingleIDCommand(t, "sh", "-c", progAttachScript, "sh", rr, bin, "none"), timeout)
	wantNative := "target exit=1\n--- target output\nready\n" +
		"setgroups: Operation not permitted\nsetresgid: Invalid argument\nsetresuid: Invalid argument\n" +
		"main: read ok eintr=0" + ids0 +
		"reader: read ok eintr=0" + ids0 +
		"sleeper: nanosleep ok eintr=0 full=yes traced=no" + ids0 +
		"futex: futex ok eintr=0" + ids0
	if ps.ExitCode() != 0 || native.stdout.String() != wantNative {
		t.Errorf("bare: want exit 0 and stdout\n%s\n%s", wantNative, native.transcript())
	}

	emu, ps := progRun(t, testenv.SingleIDCommand(t, "sh", "-c", progAttachScript, "sh", rr, bin, "attach"), timeout)
	out := emu.stdout.String()
	lagRe := regexp.MustCompile(`(?m)^attach lag ms=(\d+)\n`)
	if m := lagRe.FindStringSubmatch(out); m == nil {
		t.Errorf("no attach lag line\n%s", emu.transcript())
	} else {
		lag, _ := strconv.Atoi(m[1])
		t.Logf("remainroot attach exited %d ms after the target was reaped", lag)
		if lag > 3000 {
			t.Errorf("remainroot attach exited %d ms after the target (want < 3000)\n%s", lag, emu.transcript())
		}
		out = strings.Replace(out, m[0], "", 1)
	}
	wantAttach := "attached\ntarget exit=0\nattach exit=0\n--- target output\nready\n" +
		"setgroups: ok\nsetresgid: ok\nsetresuid: ok\n" +
		"main: read ok eintr=0" + ids1000 +
		"reader: read ok eintr=0" + ids1000 +
		"sleeper: nanosleep ok eintr=0 full=yes traced=yes" + ids1000 +
		"futex: futex ok eintr=0" + ids1000
	if ps.ExitCode() != 0 || out != wantAttach {
		t.Errorf("attached: want exit 0 and stdout (without the lag line)\n%s\n%s", wantAttach, emu.transcript())
	}
}
