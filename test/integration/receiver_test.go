package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// The precreate hook and the supervisor without podman or a runtime:
// test/programs/fake_runtime does for one process what a runtime does when
// the config names a seccomp listenerPath (load a notifying filter, send
// its listener with a ContainerProcessState shaped as runc, crun or youki
// shape theirs, switch to the process's user, exec). The container's
// "init" and one "exec" run in a single-id namespace as rootless podman's
// would, and must print (setpriv --dump: ids, groups, capabilities through
// capget) what the same steps print as real root in a fully mapped
// namespace, where the runtime's own calls succeed.

const (
	// The container's process.user, and an exec's.
	initUser = "1000:1000:1000"
	execUser = "1000:1000"
)

func receiverConfig(id string) string {
	return `{"ociVersion":"1.0.2","process":{"user":{"uid":1000,"gid":1000,"additionalGids":[1000]},"args":["sh"]},` +
		`"linux":{"namespaces":[{"type":"pid"}]},"annotations":{"io.remainroot.mode":"creds","x":"` + id + `"}}`
}

// kernelRun is what fake_runtime prints with no agent, as real root in a
// fully mapped namespace.
func kernelRun(t *testing.T, fake, user string) string {
	t.Helper()
	cmd := testenv.FullMapCommand(t, fake, "/nonexistent", "none", "c", user, "--", "setpriv", "--dump")
	out, errOut, code := testenv.Run(t, cmd, time.Minute)
	if code != 0 {
		t.Fatalf("kernel run exited %d: %s%s", code, out, errOut)
	}
	return out
}

func TestReceiverRuntimeShapes(t *testing.T) {
	bin := progSetup(t)
	fake := progCompileC(t, "fake_runtime.c")
	wantInit := kernelRun(t, fake, initUser)
	wantExec := kernelRun(t, fake, execUser)
	for _, rt := range []string{"runc", "crun", "youki"} {
		t.Run(rt, func(t *testing.T) {
			id := fmt.Sprintf("rr-recv-%s-%d", rt, time.Now().UnixNano())
			script := `set -e
mkdir -p logs t
export REMAINROOT_LOG_DIR=$PWD/logs TMPDIR=$PWD/t
printf '%s' "$CFG" > cfg.json
printf '{"user":{"uid":1000,"gid":1000},"args":["setpriv","--dump"]}' > proc.json
"$RR" hook precreate < cfg.json > rw.json
"$FAKE" rw.json ` + rt + `-init "$ID" 0:0 -- sh -c 'setpriv --dump > init.out; while [ ! -e done ]; do sleep 0.05; done' &
init=$!
n=0; while [ ! -s init.out ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done
INIT_PID=$init "$FAKE" rw.json ` + rt + `-exec "$ID" ` + execUser + ` --process "$PWD/proc.json" -- setpriv --dump > exec.out
touch done
wait $init
# The supervisor notices the container's end on its own: wait for its last
# line (a deadline, not a count of tries).
end=$(($(date +%s) + 30))
until grep -qs 'supervisor exits' logs/*.log || [ "$(date +%s)" -ge "$end" ]; do sleep 0.05; done
cat init.out; echo ===; cat exec.out; echo ===; cat logs/*.log
`
			cmd := testenv.SingleIDCommand(t, "sh", "-c", script)
			cmd.Env = append(cmd.Env, "RR="+bin, "FAKE="+fake, "ID="+id, "CFG="+receiverConfig(id))
			out, errOut, code := testenv.Run(t, cmd, 2*time.Minute)
			parts := strings.SplitN(out, "===\n", 3)
			if code != 0 || len(parts) != 3 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if parts[0] != wantInit {
				t.Errorf("init (process.user %s, run as 0:0 by the runtime, given at exec):\n%s\nkernel:\n%s\nlog:\n%s", initUser, parts[0], wantInit, parts[2])
			}
			if parts[1] != wantExec {
				t.Errorf("exec as %s:\n%s\nkernel:\n%s\nlog:\n%s", execUser, parts[1], wantExec, parts[2])
			}
			if !strings.Contains(parts[2], "container gone; supervisor exits") {
				t.Errorf("the supervisor did not exit with the container:\n%s", parts[2])
			}
		})
	}
}

// Without the supervisor's answers the same steps fail in a single-id
// namespace: the failure users see without remainroot.
func TestReceiverFailsWithout(t *testing.T) {
	progSetup(t)
	fake := progCompileC(t, "fake_runtime.c")
	cmd := testenv.SingleIDCommand(t, fake, "/nonexistent", "none", "c", execUser, "--", "id")
	out, errOut, code := testenv.Run(t, cmd, time.Minute)
	if code == 0 || !strings.Contains(errOut, "setresgid: Invalid argument") {
		t.Fatalf("want setresgid EINVAL without remainroot, got exit %d: %s%s", code, out, errOut)
	}
}
