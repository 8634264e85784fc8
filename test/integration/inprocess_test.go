package integration

// The in-process route (remainroot run --mode full --in-process, issue
// 19): what programs see is what they see on the ptrace route, and the
// stats say the route answered them.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// inProcessScript makes owners of every kind of object, by root and by a
// user it becomes with su, runs programs in an exec chain, a failed exec,
// an exec with SIGSYS blocked (perl) and a multi-threaded Go program, and
// prints what stat and find see.
const inProcessScript = `set -e
mkdir -p t/d t/e; : > t/f; : > t/g; ln -s f t/l; mkfifo t/p
chown 1000:1000 t/f; chown 7:7 t/d; chown -h 8:8 t/l; chown 9:9 t/p; chown 0:5 t/g
chmod 1777 t/e
su -s /bin/sh nobody -c 'id; : > t/e/mine; mkdir t/e/dir; stat -c "%U:%G %n" t/e/mine t/e/dir'
sh -c 'sh -c "stat -c \"%u:%g %F %n\" t/f t/d t/l t/p t/g /dev/null"'
env no-such-command 2>/dev/null || echo "failed exec: $?"
stat -L -c '%u:%g %n' t/l
perl -MPOSIX -e 'sigprocmask(SIG_BLOCK, POSIX::SigSet->new(31)) or die; exec "stat", "-c", "%u:%g %n", "t/f"'
find t -printf '%u:%g %m %y %p\n' | sort
GOSTAT
`

func TestInProcessMatchesPtraceRoute(t *testing.T) {
	rr := progSetup(t)
	gostat := progBuildGo(t, "gostat")
	uid, gid := testenv.UnprivUser(t)
	out := map[bool]string{}
	for _, inProcess := range []bool{false, true} {
		dir := testenv.WorkDir(t, uid, gid)
		stats := filepath.Join(dir, "stats.json")
		args := []string{"run", "--mode", "full", "--stats", stats}
		if inProcess {
			args = append(args, "--in-process")
		}
		script := inProcessScript
		args = append(args, "--", "sh", "-c", replaceGostat(script, gostat))
		cmd := testenv.SingleIDCommand(t, rr, args...)
		cmd.Dir = dir
		stdout, stderr, code := testenv.Run(t, cmd, 2*time.Minute)
		if code != 0 {
			t.Fatalf("in-process %v: exit %d\nstdout:\n%s\nstderr:\n%s", inProcess, code, stdout, stderr)
		}
		out[inProcess] = stdout
		data, err := os.ReadFile(stats)
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			Stops     uint64 `json:"stops"`
			InProcess uint64 `json:"in_process"`
		}
		if err := json.Unmarshal(data, &st); err != nil {
			t.Fatal(err)
		}
		t.Logf("in-process %v: %d stops, route in %d programs", inProcess, st.Stops, st.InProcess)
		if inProcess && st.InProcess < 10 {
			t.Errorf("the route went into %d programs, want one per exec (at least 10)", st.InProcess)
		}
		if !inProcess && st.InProcess != 0 {
			t.Errorf("the route went into %d programs without --in-process", st.InProcess)
		}
	}
	if out[true] != out[false] {
		t.Errorf("in-process route:\n%s\nptrace route:\n%s", out[true], out[false])
	}
	t.Logf("output:\n%s", out[true])
}

// replaceGostat puts the Go program in the script: it stats files from
// 200 goroutines on small stacks and prints how many results were bad.
func replaceGostat(script, gostat string) string {
	return strings.ReplaceAll(script, "GOSTAT", gostat)
}
