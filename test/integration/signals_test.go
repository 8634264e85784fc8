package integration

// Exit statuses, signals and job control through `remainroot run`, each
// compared with the same command run bare in the same kind of single-id
// user namespace.

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/remainroot/remainroot/test/testenv"
)

// TestExitStatuses compares exit statuses. What is compared:
//   - the wait status seen by the test (the Go API): the bare command exits
//     0 or 3, or dies of SIGTERM (WaitStatus.Signaled, Signal()==SIGTERM);
//     remainroot exits normally with 0, 3, or 128+15=143 (it cannot die of
//     the child's signal itself, so it reports it as a shell would);
//   - the status a shell sees ($? of `CMD; echo status=$?`): identical for
//     both, 0, 3 and 143.
func TestExitStatuses(t *testing.T) {
	rr := progSetup(t)
	const timeout = 30 * time.Second
	for _, c := range []struct {
		script   string
		native   string // progStatus of the bare command
		rrStatus string // progStatus of remainroot
		shell    string // what a shell prints as $?
	}{
		{"exit 0", "exit 0", "exit 0", "0"},
		{"exit 3", "exit 3", "exit 3", "3"},
		{"kill -TERM $$", "signal terminated", "exit 143", "143"},
	} {
		t.Run(strings.ReplaceAll(c.script, " ", "_"), func(t *testing.T) {
			native, ps := progRun(t, testenv.SingleIDCommand(t, "sh", "-c", c.script), timeout)
			if got := progStatus(ps); got != c.native {
				t.Errorf("bare sh -c %q: got %s, want %s\n%s", c.script, got, c.native, native.transcript())
			}
			emu, ps := progRun(t, progRR(t, rr, "sh", "-c", c.script), timeout)
			if got := progStatus(ps); got != c.rrStatus {
				t.Errorf("remainroot run -- sh -c %q: got %s, want %s\n%s", c.script, got, c.rrStatus, emu.transcript())
			}

			const wrapper = `"$@"; echo status=$?`
			want := "status=" + c.shell + "\n"
			native, _ = progRun(t, testenv.SingleIDCommand(t, "sh", "-c", wrapper, "wrapper", "sh", "-c", c.script), timeout)
			if got := native.stdout.String(); got != want {
				t.Errorf("shell status of bare sh -c %q: got %q, want %q\n%s", c.script, got, want, native.transcript())
			}
			emu, _ = progRun(t, testenv.SingleIDCommand(t, "sh", "-c", wrapper, "wrapper", rr, "run", "--", "sh", "-c", c.script), timeout)
			if got := emu.stdout.String(); got != want {
				t.Errorf("shell status of remainroot run -- sh -c %q: got %q, want %q\n%s", c.script, got, want, emu.transcript())
			}
		})
	}
}

// progCheckExe checks that pid runs the executable exe (so that a signal
// sent to pid reaches the process the test means).
func progCheckExe(t *testing.T, pid int, exe string) {
	t.Helper()
	got, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		t.Fatalf("readlink /proc/%d/exe: %v", pid, err)
	}
	if got != exe {
		t.Fatalf("pid %d runs %s, want %s", pid, got, exe)
	}
}

// TestKillINTShellLoop sends SIGINT (then, in another run, SIGTERM) to
// remainroot while its child shell loops, and to the bare shell loop: the
// shell's INT trap runs the same way, and an untrapped SIGTERM gives the
// same shell status (bare: killed by SIGTERM; remainroot: exit 143).
func TestKillINTShellLoop(t *testing.T) {
	rr := progSetup(t)
	const (
		intScript  = `trap "echo got INT; exit 7" INT; echo ready; while :; do sleep 0.1; done`
		termScript = `echo ready; while :; do sleep 0.1; done`
	)
	for _, c := range []struct {
		name     string
		script   string
		sig      syscall.Signal
		stdout   string
		native   string
		rrStatus string
	}{
		{"INT", intScript, syscall.SIGINT, "ready\ngot INT\n", "exit 7", "exit 7"},
		{"TERM", termScript, syscall.SIGTERM, "ready\n", "signal terminated", "exit 143"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Bare: the started process is the shell itself (setpriv and
			// unshare exec).
			native := progStart(t, testenv.SingleIDCommand(t, "sh", "-c", c.script))
			native.waitOutput("ready\n", 10*time.Second)
			if exe, err := os.Readlink("/proc/" + strconv.Itoa(native.pid()) + "/exe"); err != nil || !strings.HasSuffix(exe, "sh") {
				t.Fatalf("bare: pid %d runs %q (%v), not a shell", native.pid(), exe, err)
			}
			syscall.Kill(native.pid(), c.sig)
			ps := native.wait(10 * time.Second)
			if got := progStatus(ps); got != c.native || native.stdout.String() != c.stdout {
				t.Errorf("bare shell after %v: got %s, want %s and stdout %q\n%s",
					c.sig, got, c.native, c.stdout, native.transcript())
			}

			// Under remainroot: the started process is remainroot.
			emu := progStart(t, progRR(t, rr, "sh", "-c", c.script))
			emu.waitOutput("ready\n", 10*time.Second)
			progCheckExe(t, emu.pid(), rr)
			syscall.Kill(emu.pid(), c.sig)
			ps = emu.wait(10 * time.Second)
			if got := progStatus(ps); got != c.rrStatus || emu.stdout.String() != c.stdout {
				t.Errorf("remainroot after %v: got %s, want %s and stdout %q (bare: %s, %q)\n%s",
					c.sig, got, c.rrStatus, c.stdout, progStatus(native.cmd.ProcessState),
					native.stdout.String(), emu.transcript())
			}
		})
	}
}

// TestKillStopCont stops the traced shell loop with SIGSTOP and resumes it
// with SIGCONT (both sent to the shell, not to remainroot): it must be seen
// stopped in /proc/PID/stat ('T', or 't' for a ptrace-stopped tracee), make
// no progress while stopped, resume, and finish normally, as the bare loop
// does.
func TestKillStopCont(t *testing.T) {
	rr := progSetup(t)
	const script = `echo ready $$; i=0; while [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; echo done`
	for _, c := range []struct {
		name string
		cmd  func() *exec.Cmd
	}{
		{"bare", func() *exec.Cmd { return testenv.SingleIDCommand(t, "sh", "-c", script) }},
		{"remainroot", func() *exec.Cmd { return progRR(t, rr, "sh", "-c", script) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := progStart(t, c.cmd())
			p.waitOutput("\n", 10*time.Second)
			var pid int
			if _, err := fmt.Sscanf(p.stdout.String(), "ready %d\n", &pid); err != nil || pid <= 0 {
				t.Fatalf("no pid in the first line\n%s", p.transcript())
			}
			if st, err := progStat(pid); err != nil || (st.ppid != p.pid() && pid != p.pid()) {
				t.Fatalf("pid %d (%+v, %v) is not the shell started by the test\n%s", pid, st, err, p.transcript())
			}
			time.Sleep(300 * time.Millisecond)

			syscall.Kill(pid, syscall.SIGSTOP)
			stoppedAt := time.Now()
			var st progProcStat
			for {
				var err error
				st, err = progStat(pid)
				if err != nil {
					t.Fatalf("shell %d gone after SIGSTOP: %v\n%s", pid, err, p.transcript())
				}
				if progIsStopped(st.state) {
					break
				}
				if time.Since(stoppedAt) > 3*time.Second {
					t.Fatalf("shell %d not stopped 3 s after SIGSTOP (state %c)\n%s", pid, st.state, p.transcript())
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Logf("stopped: state %c after %v", st.state, time.Since(stoppedAt).Round(time.Millisecond))
			before := p.stdout.String()
			time.Sleep(1500 * time.Millisecond)
			if st, err := progStat(pid); err != nil || !progIsStopped(st.state) {
				t.Fatalf("shell %d did not stay stopped (state %c, %v)\n%s", pid, st.state, err, p.transcript())
			}
			if p.exited() || p.stdout.String() != before {
				t.Fatalf("progress while stopped\n%s", p.transcript())
			}

			syscall.Kill(pid, syscall.SIGCONT)
			contAt := time.Now()
			for {
				st, err := progStat(pid)
				if err != nil || !progIsStopped(st.state) {
					break
				}
				if time.Since(contAt) > 3*time.Second {
					t.Fatalf("shell %d still stopped (state %c) 3 s after SIGCONT\n%s", pid, st.state, p.transcript())
				}
				time.Sleep(10 * time.Millisecond)
			}
			ps := p.wait(20 * time.Second)
			if progStatus(ps) != "exit 0" || p.stdout.String() != fmt.Sprintf("ready %d\ndone\n", pid) {
				t.Errorf("want exit 0 and \"ready PID\\ndone\\n\"\n%s", p.transcript())
			}
			// 20 x 0.1 s of sleeps plus the 1.5 s stop.
			if el := p.elapsed(); el < 3300*time.Millisecond {
				t.Errorf("finished after %v: the stop did not delay it", el)
			}
		})
	}
}

// progPty is a pseudo-terminal whose master side the test drives.
type progPty struct {
	t      *testing.T
	master *os.File
	slave  *os.File
	out    progOutput
	mark   int // transcript offset up to which expect has consumed
	closed chan struct{}
}

func progIoctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// progOpenPty opens a pty pair with a wide window; the slave belongs to
// uid:gid. A goroutine copies everything the master reads into the
// transcript.
func progOpenPty(t *testing.T, uid, gid int) *progPty {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	var unlock int32
	if err := progIoctl(master, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		master.Close()
		t.Fatalf("TIOCSPTLCK: %v", err)
	}
	var n uint32
	if err := progIoctl(master, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		master.Close()
		t.Fatalf("TIOCGPTN: %v", err)
	}
	ws := struct{ rows, cols, x, y uint16 }{50, 250, 0, 0}
	if err := progIoctl(master, syscall.TIOCSWINSZ, unsafe.Pointer(&ws)); err != nil {
		master.Close()
		t.Fatalf("TIOCSWINSZ: %v", err)
	}
	name := "/dev/pts/" + strconv.Itoa(int(n))
	slave, err := os.OpenFile(name, os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		master.Close()
		t.Fatalf("open %s: %v", name, err)
	}
	if err := os.Chown(name, uid, gid); err != nil {
		t.Fatalf("chown %s: %v", name, err)
	}
	p := &progPty{t: t, master: master, slave: slave, closed: make(chan struct{})}
	go func() {
		defer close(p.closed)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			if n > 0 {
				p.out.Write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		p.slave.Close()
		p.master.Close()
		<-p.closed
	})
	return p
}

func (p *progPty) send(s string) {
	p.t.Helper()
	if _, err := p.master.Write([]byte(s)); err != nil {
		p.t.Fatalf("write to pty: %v\ntranscript:\n%s", err, p.out.String())
	}
}

// expect waits until s appears in the transcript after the mark and moves
// the mark past it.
func (p *progPty) expect(s string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		all := p.out.String()
		if i := strings.Index(all[p.mark:], s); i >= 0 {
			p.mark += i + len(s)
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no %q on the terminal after %v\ntranscript (quoted):\n%q\ntranscript:\n%s",
				s, timeout, all, all)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// expectRe is expect for a regular expression; it returns the submatches.
func (p *progPty) expectRe(re *regexp.Regexp, timeout time.Duration) []string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		all := p.out.String()
		if loc := re.FindStringSubmatchIndex(all[p.mark:]); loc != nil {
			m := re.FindStringSubmatch(all[p.mark:])
			p.mark += loc[1]
			return m
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no match for %s on the terminal after %v\ntranscript (quoted):\n%q\ntranscript:\n%s",
				re, timeout, all, all)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCtrlZFg drives an interactive bash (session leader with the pty as
// its controlling terminal, in a single-id namespace) through job control:
// start `sleep 3` (bare, then under remainroot), ^Z it, check bash reports
// it Stopped and `jobs` lists it, keep it stopped past its 3 s deadline
// while checking the sleep process stays stopped, `fg` it and check it
// completes with status 0.
func TestCtrlZFg(t *testing.T) {
	rr := progSetup(t, "bash")
	for _, c := range []struct {
		name    string
		cmdline string
	}{
		{"bare", "sleep 3"},
		{"remainroot", rr + " run -- sleep 3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			uid, gid := testenv.UnprivUser(t)
			pt := progOpenPty(t, uid, gid)
			cmd := testenv.SingleIDCommand(t, "bash", "--norc", "--noprofile", "-i")
			cmd.Env = append(cmd.Env, "PS1=PROMPT> ", "HISTFILE=/dev/null", "TERM=dumb", "INPUTRC=/dev/null")
			cmd.Stdin, cmd.Stdout, cmd.Stderr = pt.slave, pt.slave, pt.slave
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
			p := progStart(t, cmd)
			pt.slave.Close()
			bash := p.pid()

			pt.expect("PROMPT> ", 10*time.Second)
			pt.send("bind 'set enable-bracketed-paste off' 2>/dev/null\n")
			pt.expect("PROMPT> ", 5*time.Second)
			pt.send(c.cmdline + "\n")
			sleepPid := progFindDescendant(t, bash, "sleep", 10*time.Second)
			if sleepPid == 0 {
				t.Fatalf("no sleep process under bash\ntranscript:\n%s", pt.out.String())
			}
			started := time.Now()
			time.Sleep(500 * time.Millisecond)

			pt.send("\x1a")
			pt.expect("Stopped", 5*time.Second)
			pt.expect("PROMPT> ", 5*time.Second)
			if st, err := progStat(sleepPid); err != nil || !progIsStopped(st.state) {
				t.Fatalf("after ^Z, sleep %d is not stopped (state %c, %v)\ntranscript:\n%s",
					sleepPid, st.state, err, pt.out.String())
			}
			pt.send("jobs\n")
			pt.expect("Stopped", 5*time.Second)
			pt.expect("PROMPT> ", 5*time.Second)

			// Stay stopped past the sleep's own deadline: the sleep must
			// still be there, stopped.
			time.Sleep(time.Until(started.Add(3500 * time.Millisecond)))
			if st, err := progStat(sleepPid); err != nil || !progIsStopped(st.state) {
				t.Fatalf("3.5 s after start, sleep %d is not stopped (state %c, %v)\ntranscript:\n%s",
					sleepPid, st.state, err, pt.out.String())
			}
			pt.send("jobs\n")
			pt.expect("Stopped", 5*time.Second)
			pt.expect("PROMPT> ", 5*time.Second)

			pt.send("fg\n")
			pt.expect("PROMPT> ", 10*time.Second)
			pt.send(`echo "st""atus=$?"` + "\n")
			m := pt.expectRe(regexp.MustCompile(`status=(\d+)`), 5*time.Second)
			if m[1] != "0" {
				t.Errorf("after fg: status=%s, want 0\ntranscript:\n%s", m[1], pt.out.String())
			}
			if st, err := progStat(sleepPid); err == nil {
				t.Errorf("sleep %d still exists after fg completed (state %c)", sleepPid, st.state)
			}
			pt.expect("PROMPT> ", 5*time.Second)
			pt.send("exit\n")
			if ps := p.wait(10 * time.Second); progStatus(ps) != "exit 0" {
				t.Errorf("bash: %s\ntranscript:\n%s", progStatus(ps), pt.out.String())
			}
			t.Logf("transcript:\n%s", pt.out.String())
		})
	}
}
