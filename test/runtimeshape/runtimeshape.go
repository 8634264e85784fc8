// Package runtimeshape plays a container's life under the precreate hook
// and its supervisor without podman or a runtime: test/programs/fake_runtime
// does for one process what runc, crun or youki do when the config names a
// seccomp listenerPath. One session is a container's init plus one exec,
// run by Script in a single-id user namespace; the integration tests check
// what they print, the stress tests run many sessions.
package runtimeshape

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// Shapes are the runtimes fake_runtime imitates.
var Shapes = []string{"runc", "crun", "youki"}

const (
	// InitUser is the container's process.user, ExecUser an exec's.
	InitUser = "1000:1000:1000"
	ExecUser = "1000:1000"
)

// SupervisorExit is the supervisor's last log line, written as it exits
// once the container is gone.
const SupervisorExit = "container gone; supervisor exits"

// Config is a container config.json in mode creds, made unique by id.
func Config(id string) string {
	return `{"ociVersion":"1.0.2","process":{"user":{"uid":1000,"gid":1000,"additionalGids":[1000]},"args":["sh"]},` +
		`"linux":{"namespaces":[{"type":"pid"}]},"annotations":{"io.remainroot.mode":"creds","x":"` + id + `"}}`
}

// NewID returns a container id for shape unique in this machine's run.
func NewID(shape string) string {
	return fmt.Sprintf("rr-recv-%s-%d", shape, time.Now().UnixNano())
}

// Script is the shell script of one session of shape, run in its own
// working directory with $RR (remainroot), $FAKE (fake_runtime), $ID and
// $CFG (Config(ID)) set: the precreate hook rewrites the config, the init
// runs `setpriv --dump` and waits, one exec runs `setpriv --dump`, then the
// init ends. When the init has ended, the script waits up to
// supervisorWait for the supervisor's SupervisorExit line. It prints the
// init's output, "===", the exec's, "===" and the logs (Parse).
func Script(shape string, supervisorWait time.Duration) string {
	return `set -e
mkdir -p logs t
export REMAINROOT_LOG_DIR=$PWD/logs TMPDIR=$PWD/t
printf '%s' "$CFG" > cfg.json
printf '{"user":{"uid":1000,"gid":1000},"args":["setpriv","--dump"]}' > proc.json
"$RR" hook precreate < cfg.json > rw.json
"$FAKE" rw.json ` + shape + `-init "$ID" 0:0 -- sh -c 'setpriv --dump > init.out; while [ ! -e done ]; do sleep 0.05; done' &
init=$!
n=0; while [ ! -s init.out ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done
INIT_PID=$init "$FAKE" rw.json ` + shape + `-exec "$ID" ` + ExecUser + ` --process "$PWD/proc.json" -- setpriv --dump > exec.out
touch done
wait $init
n=0; while ! grep -qs '` + SupervisorExit + `' logs/*.log && [ $n -lt ` + fmt.Sprint(int(supervisorWait/(50*time.Millisecond))) + ` ]; do sleep 0.05; n=$((n+1)); done
echo "supervisor exit awaited $n ticks of 50 ms" >&2
cat init.out; echo ===; cat exec.out; echo ===; cat logs/*.log
`
}

// Env is the environment Script needs, to append to a command's.
func Env(rr, fake, id string) []string {
	return []string{"RR=" + rr, "FAKE=" + fake, "ID=" + id, "CFG=" + Config(id)}
}

// Output is what one session printed.
type Output struct {
	Init, Exec, Log string
}

// Parse splits Script's output; ok is false when it is not whole.
func Parse(out string) (o Output, ok bool) {
	parts := strings.SplitN(out, "===\n", 3)
	if len(parts) != 3 {
		return Output{}, false
	}
	return Output{Init: parts[0], Exec: parts[1], Log: parts[2]}, true
}

// SupervisorExited reports whether the session's log has the supervisor's
// exit.
func (o Output) SupervisorExited() bool {
	return strings.Contains(o.Log, SupervisorExit)
}

// Kernel is what fake_runtime (at fake) prints with no agent for a process
// of user, as real root in a fully mapped namespace: what a session's init
// and exec must print.
func Kernel(t testing.TB, fake, user string) string {
	t.Helper()
	cmd := testenv.FullMapCommand(t, fake, "/nonexistent", "none", "c", user, "--", "setpriv", "--dump")
	out, errOut, code := testenv.Run(t, cmd, time.Minute)
	if code != 0 {
		t.Fatalf("kernel run exited %d: %s%s", code, out, errOut)
	}
	return out
}
