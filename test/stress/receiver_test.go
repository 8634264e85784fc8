package stress

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/runtimeshape"
)

// supervisorWait is how long a session waits, after the container's init
// has ended, for the supervisor's exit line.
const supervisorWait = 10 * time.Second

// Supervisor sessions of each runtime shape (REMAINROOT_STRESS_SESSIONS
// each): the precreate hook, the container's init and one exec through
// test/programs/fake_runtime; each must print the kernel's answers, and
// the supervisor must exit with the container, leaving nothing.
func TestRuntimeShapeSessions(t *testing.T) {
	for _, shape := range runtimeshape.Shapes {
		t.Run(shape, func(t *testing.T) {
			h := newHarness(t, "fake_runtime")
			fake := h.program("fake_runtime")
			wantInit := runtimeshape.Kernel(t, fake, runtimeshape.InitUser)
			wantExec := runtimeshape.Kernel(t, fake, runtimeshape.ExecUser)
			var owner syscall.Stat_t
			if err := syscall.Stat(h.template.Dir, &owner); err != nil {
				t.Fatal(err)
			}
			late, latest := 0, 0
			h.repeat(sessionsPerShape(t), func(i int) {
				dir := filepath.Join(h.template.Dir, fmt.Sprintf("session-%d", i))
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Chown(dir, int(owner.Uid), int(owner.Gid)); err != nil {
					t.Fatal(err)
				}
				id := runtimeshape.NewID(shape)
				cmd := h.command("sh", "-c", runtimeshape.Script(shape, supervisorWait), "session", h.dir)
				cmd.Dir = dir
				cmd.Env = append(append([]string(nil), cmd.Env...), runtimeshape.Env(h.rr, fake, id)...)
				r := h.start(cmd)
				status := r.wait()
				out, ok := runtimeshape.Parse(r.stdout.String())
				switch {
				case status < 0:
				case status != 0 || !ok:
					h.fail("status", "%s: exit status %d", r.describe(), status)
				case out.Init != wantInit || out.Exec != wantExec:
					h.fail("other", "%s: init printed\n%s\nexec printed\n%s\nkernel: init\n%s\nexec\n%s",
						r.describe(), out.Init, out.Exec, wantInit, wantExec)
				case !out.SupervisorExited():
					h.fail("hang", "%s: the supervisor did not exit with the container within %v:\n%s",
						r.describe(), supervisorWait, out.Log)
				}
				var ticks int
				if _, err := fmt.Sscanf(r.stderr.String()[bytes.Index(r.stderr.Bytes(), []byte("supervisor exit awaited"))+1:],
					"upervisor exit awaited %d ticks", &ticks); err == nil && ticks > 0 {
					late++
					latest = max(latest, ticks)
				}
				h.checkLeftovers(r.describe())
			})
			t.Logf("sessions whose supervisor had not yet logged its exit when the init was reaped: %d (the latest %d ms after)", late, latest*50)
		})
	}
}
