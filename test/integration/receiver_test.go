package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/runtimeshape"
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
// The supervisor logs its exit once it has seen the container go, which
// may come just after the init is reaped: the script waits for that line.

// kernelRun is what fake_runtime prints with no agent, as real root in a
// fully mapped namespace.
func kernelRun(t *testing.T, fake, user string) string {
	t.Helper()
	return runtimeshape.Kernel(t, fake, user)
}

func TestReceiverRuntimeShapes(t *testing.T) {
	bin := progSetup(t)
	fake := progCompileC(t, "fake_runtime.c")
	wantInit := kernelRun(t, fake, runtimeshape.InitUser)
	wantExec := kernelRun(t, fake, runtimeshape.ExecUser)
	for _, rt := range runtimeshape.Shapes {
		t.Run(rt, func(t *testing.T) {
			id := runtimeshape.NewID(rt)
			cmd := testenv.SingleIDCommand(t, "sh", "-c", runtimeshape.Script(rt, 30*time.Second))
			cmd.Env = append(cmd.Env, runtimeshape.Env(bin, fake, id)...)
			out, errOut, code := testenv.Run(t, cmd, 2*time.Minute)
			o, ok := runtimeshape.Parse(out)
			if code != 0 || !ok {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			parts := []string{o.Init, o.Exec, o.Log}
			if parts[0] != wantInit {
				t.Errorf("init (process.user %s, run as 0:0 by the runtime, given at exec):\n%s\nkernel:\n%s\nlog:\n%s", runtimeshape.InitUser, parts[0], wantInit, parts[2])
			}
			if parts[1] != wantExec {
				t.Errorf("exec as %s:\n%s\nkernel:\n%s\nlog:\n%s", runtimeshape.ExecUser, parts[1], wantExec, parts[2])
			}
			if !o.SupervisorExited() {
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
	cmd := testenv.SingleIDCommand(t, fake, "/nonexistent", "none", "c", runtimeshape.ExecUser, "--", "id")
	out, errOut, code := testenv.Run(t, cmd, time.Minute)
	if code == 0 || !strings.Contains(errOut, "setresgid: Invalid argument") {
		t.Fatalf("want setresgid EINVAL without remainroot, got exit %d: %s%s", code, out, errOut)
	}
}
