package hook

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/test/testenv"
)

// rootlessFacts are the facts of a hook run by rootless podman: uid 0 with
// every capability in podman's user namespace, the init in the same one.
func rootlessFacts() seizeFacts {
	return seizeFacts{
		TargetName:       "runc:[2:INIT]",
		TargetState:      "S (sleeping)",
		TargetUIDs:       []int{0, 0, 0, 0},
		TargetGIDs:       []int{0, 0, 0, 0},
		TargetOwner:      0,
		TargetUserNS:     4026532301,
		SelfUID:          0,
		SelfGID:          0,
		SelfCapSysPtrace: true,
		SelfUserNS:       4026532301,
		SelfSeccomp:      0,
		YamaScope:        yamaAbsent,
		LSMs:             []string{"lockdown", "capability", "landlock", "bpf"},
	}
}

// bareCrunFacts are the facts seen by a hook of bare rootless crun: the
// hook is uid 1000 without capabilities in the initial user namespace; the
// init, in crun's new user namespace, is non-dumpable and its memory still
// belongs to the initial namespace, so /proc/<pid> is owned by root and its
// ns links are unreadable.
func bareCrunFacts() seizeFacts {
	return seizeFacts{
		TargetName:      "crun",
		TargetState:     "S (sleeping)",
		TargetUIDs:      []int{1000, 1000, 1000, 1000},
		TargetGIDs:      []int{1000, 1000, 1000, 1000},
		TargetOwner:     0,
		TargetUserNSErr: &fs.PathError{Op: "readlink", Path: "/proc/4242/ns/user", Err: syscall.EACCES},
		SelfUID:         1000,
		SelfGID:         1000,
		SelfUserNS:      initUserNSInode,
		SelfSeccomp:     0,
		YamaScope:       yamaAbsent,
		LSMs:            nil,
	}
}

func TestExplainSeize(t *testing.T) {
	eperm := fmt.Errorf("seize thread 4242: %w", syscall.EPERM)
	tests := []struct {
		name  string
		err   error
		facts func(*seizeFacts)
		want  []string // substrings, in order
	}{
		{
			name: "ESRCH",
			err:  syscall.ESRCH,
			want: []string{"pid 4242", "no such process", "exited before the hook could attach"},
		},
		{
			name: "other errno",
			err:  fmt.Errorf("ptrace: %w", syscall.EIO),
			want: []string{"PTRACE_SEIZE: ptrace: input/output error"},
		},
		{
			name: "not an errno",
			err:  errors.New("boom"),
			want: []string{"PTRACE_SEIZE: boom"},
		},
		{
			name: "exited meanwhile",
			err:  eperm,
			facts: func(f *seizeFacts) {
				*f = seizeFacts{TargetErr: &fs.PathError{Op: "open", Path: "/proc/4242/status", Err: syscall.ENOENT}, TargetOwner: -1, YamaScope: yamaAbsent}
			},
			want: []string{"refused (operation not permitted)", "exited while the hook was attaching"},
		},
		{
			name:  "zombie",
			err:   eperm,
			facts: func(f *seizeFacts) { f.TargetState = "Z (zombie)" },
			want:  []string{"already exited (state Z (zombie))"},
		},
		{
			name:  "already traced",
			err:   eperm,
			facts: func(f *seizeFacts) { f.TracerPid = 777; f.TracerName = "remainroot" },
			want:  []string{"already traced by pid 777 (remainroot)", "list remainroot once in hooks.d"},
		},
		{
			name:  "already traced, tracer name unknown",
			err:   eperm,
			facts: func(f *seizeFacts) { f.TracerPid = 777 },
			want:  []string{"already traced by pid 777 and"},
		},
		{
			name:  "Yama 3",
			err:   eperm,
			facts: func(f *seizeFacts) { f.YamaScope = 3 },
			want:  []string{"ptrace_scope is 3", "until reboot"},
		},
		{
			name:  "Yama 3 even as global root",
			err:   eperm,
			facts: func(f *seizeFacts) { f.YamaScope = 3; f.SelfUserNS = initUserNSInode },
			want:  []string{"ptrace_scope is 3"},
		},
		{
			name: "ids differ",
			err:  eperm,
			facts: func(f *seizeFacts) {
				*f = bareCrunFacts()
				f.SelfUID, f.SelfGID = 1001, 1001
			},
			want: []string{"hook runs as uid 1001 gid 1001", "uids 1000/1000/1000/1000 gids 1000/1000/1000/1000", "lacks CAP_SYS_PTRACE", "or as root"},
		},
		{
			name: "saved uid differs",
			err:  eperm,
			facts: func(f *seizeFacts) {
				*f = bareCrunFacts()
				f.TargetUIDs = []int{1000, 1000, 0, 1000}
			},
			want: []string{"uids 1000/1000/0/1000"},
		},
		{
			name:  "non-dumpable: bare rootless crun",
			err:   eperm,
			facts: func(f *seizeFacts) { *f = bareCrunFacts() },
			want:  []string{"non-dumpable", "the hook (uid 1000 in the initial user namespace) lacks CAP_SYS_PTRACE", "bare rootless crun", "rootless podman, or as root, or with runc"},
		},
		{
			name: "non-dumpable seen from owner only",
			err:  eperm,
			facts: func(f *seizeFacts) {
				*f = bareCrunFacts()
				f.TargetUserNSErr = nil
				f.TargetUserNS = 4026532400
			},
			want: []string{"non-dumpable"},
		},
		{
			name: "non-dumpable seen from ns only",
			err:  eperm,
			facts: func(f *seizeFacts) {
				*f = bareCrunFacts()
				f.TargetOwner = 1000
			},
			want: []string{"non-dumpable"},
		},
		{
			name: "non-dumpable, hook has the capability only in a child namespace",
			err:  eperm,
			facts: func(f *seizeFacts) {
				*f = bareCrunFacts()
				f.SelfUID, f.SelfGID = 0, 0
				f.TargetUIDs = []int{0, 0, 0, 0}
				f.TargetGIDs = []int{0, 0, 0, 0}
				f.TargetOwner = 65534
				f.SelfCapSysPtrace = true
				f.SelfUserNS = 4026532301
			},
			want: []string{"non-dumpable", "the hook (uid 0 in user namespace 4026532301, where it has CAP_SYS_PTRACE) lacks"},
		},
		{
			name: "Yama 1, no capability",
			err:  eperm,
			facts: func(f *seizeFacts) {
				*f = bareCrunFacts()
				f.TargetOwner = 1000
				f.TargetUserNSErr = nil
				f.TargetUserNS = initUserNSInode
				f.YamaScope = 1
			},
			want: []string{"ptrace_scope is 1", "only an ancestor or a holder of CAP_SYS_PTRACE", "kernel.yama.ptrace_scope=0"},
		},
		{
			name: "Yama 2, no capability",
			err:  eperm,
			facts: func(f *seizeFacts) {
				*f = bareCrunFacts()
				f.TargetOwner = 1000
				f.TargetUserNSErr = nil
				f.TargetUserNS = initUserNSInode
				f.YamaScope = 2
			},
			want: []string{"ptrace_scope is 2", "only a holder of CAP_SYS_PTRACE"},
		},
		{
			name: "Yama 1 with the capability: LSM suspect",
			err:  eperm,
			facts: func(f *seizeFacts) {
				f.YamaScope = 1
				f.LSMs = []string{"capability", "yama", "apparmor"}
				f.TargetLabel = "containers-default-0.50.1 (enforce)"
				f.SelfLabel = "unconfined"
			},
			want: []string{"Yama scope 1", "apparmor", `hook label "unconfined", init label "containers-default-0.50.1 (enforce)"`, "audit log"},
		},
		{
			name: "SELinux suspect",
			err:  eperm,
			facts: func(f *seizeFacts) {
				f.LSMs = []string{"capability", "selinux"}
				f.TargetLabel = "system_u:system_r:container_t:s0:c1,c2"
			},
			want: []string{"no Yama", "leaves the security module(s) selinux", "container_t"},
		},
		{
			name:  "landlock and bpf only",
			err:   eperm,
			facts: func(f *seizeFacts) {},
			want:  []string{"leaves the security module(s) landlock, bpf"},
		},
		{
			name:  "seccomp on the hook",
			err:   eperm,
			facts: func(f *seizeFacts) { f.LSMs = []string{"capability"}; f.SelfSeccomp = 2 },
			want:  []string{"a seccomp filter on the hook itself"},
		},
		{
			name:  "nothing found",
			err:   eperm,
			facts: func(f *seizeFacts) { f.LSMs = []string{"capability", "lockdown"} },
			want:  []string{"no cause found (no Yama;", "no AppArmor or SELinux found"},
		},
		{
			name:  "nothing found, LSMs unknown",
			err:   eperm,
			facts: func(f *seizeFacts) { f.LSMs = nil; f.YamaScope = yamaUnreadable },
			want:  []string{"no cause found (Yama unreadable;", "securityfs not mounted"},
		},
		{
			name: "global root skips ids and dumpability",
			err:  eperm,
			facts: func(f *seizeFacts) {
				*f = bareCrunFacts()
				f.SelfUID, f.SelfGID = 0, 0
				f.SelfCapSysPtrace = true
				f.LSMs = []string{"capability", "apparmor"}
			},
			want: []string{"leaves the security module(s) apparmor"},
		},
		{
			name: "ids unknown",
			err:  eperm,
			facts: func(f *seizeFacts) {
				f.TargetUIDs, f.TargetGIDs = nil, nil
				f.SelfCapSysPtrace = false
				f.LSMs = []string{"capability"}
			},
			want: []string{"no cause found"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := rootlessFacts()
			if tt.facts != nil {
				tt.facts(&f)
			}
			got := explainSeize(4242, tt.err, f)
			if strings.Contains(got, "\n") {
				t.Errorf("message is not one line: %q", got)
			}
			if !strings.HasPrefix(got, "cannot trace the container's init (pid 4242): ") {
				t.Errorf("message %q lacks the prefix", got)
			}
			rest := got
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("message %q lacks %q (in order)", got, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	const status = "Name:\trunc:[2:INIT]\nUmask:\t0022\nState:\tS (sleeping)\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t5\t6\t7\t8\nCapEff:\t000001ffffffffff\nSeccomp:\t2\n"
	m := parseStatus(status)
	tests := []struct{ key, want string }{
		{"Name", "runc:[2:INIT]"},
		{"State", "S (sleeping)"},
		{"TracerPid", "0"},
		{"Uid", "0\t0\t0\t0"},
		{"CapEff", "000001ffffffffff"},
		{"Seccomp", "2"},
		{"Missing", ""},
	}
	for _, tt := range tests {
		if got := m[tt.key]; got != tt.want {
			t.Errorf("%s = %q, want %q", tt.key, got, tt.want)
		}
	}
	idTests := []struct {
		in   string
		want []int
	}{
		{"5\t6\t7\t8", []int{5, 6, 7, 8}},
		{"", nil},
		{"1 x 2", nil},
	}
	for _, tt := range idTests {
		if got := parseIDs(tt.in); fmt.Sprint(got) != fmt.Sprint(tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("parseIDs(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestGatherSeizeFactsSelf checks the /proc reading on this process.
func TestGatherSeizeFactsSelf(t *testing.T) {
	f := gatherSeizeFacts(os.Getpid())
	if f.TargetErr != nil {
		t.Fatal(f.TargetErr)
	}
	if f.TargetName == "" || f.TargetState == "" {
		t.Errorf("name %q state %q", f.TargetName, f.TargetState)
	}
	if len(f.TargetUIDs) != 4 || f.TargetUIDs[1] != os.Geteuid() || len(f.TargetGIDs) != 4 {
		t.Errorf("uids %v gids %v", f.TargetUIDs, f.TargetGIDs)
	}
	if f.TargetOwner != os.Geteuid() {
		t.Errorf("/proc/self owner %d, want euid %d (this process is dumpable)", f.TargetOwner, os.Geteuid())
	}
	if f.TargetUserNS == 0 || f.TargetUserNS != f.SelfUserNS {
		t.Errorf("user namespaces: target %d (%v), self %d", f.TargetUserNS, f.TargetUserNSErr, f.SelfUserNS)
	}
	if f.SelfSeccomp < 0 {
		t.Error("Seccomp field not read")
	}
	if f.YamaScope == yamaUnreadable {
		t.Error("Yama scope unreadable")
	}
	_, yamaErr := os.Stat(yamaScopeFile)
	if (f.YamaScope == yamaAbsent) != errors.Is(yamaErr, fs.ErrNotExist) {
		t.Errorf("YamaScope %d but stat says %v", f.YamaScope, yamaErr)
	}
	if os.Geteuid() == 0 && !f.SelfCapSysPtrace {
		t.Error("root without CAP_SYS_PTRACE?")
	}

	gone := gatherSeizeFacts(reapedPid(t))
	if !errors.Is(gone.TargetErr, fs.ErrNotExist) {
		t.Errorf("facts of a reaped pid: TargetErr %v", gone.TargetErr)
	}
}

// reapedPid returns the pid of a process that has exited and been reaped.
func reapedPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// Environment variable selecting TestDiagnoseHelper's role.
const helperEnv = "REMAINROOT_DIAGNOSE_HELPER"

// TestDiagnoseHelper is not a test: the tests below run the test binary
// as a helper process with helperEnv set. Roles: "target" sleeps,
// "target-nondumpable" makes itself non-dumpable and sleeps (both print
// "ready" first), "seize:<pid>" tries PTRACE_SEIZE and prints "OK" or the
// explanation.
func TestDiagnoseHelper(t *testing.T) {
	role := os.Getenv(helperEnv)
	if role == "" {
		return
	}
	switch {
	case role == "target" || role == "target-nondumpable":
		if role == "target-nondumpable" {
			if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
				fmt.Println("prctl:", err)
				os.Exit(1)
			}
		}
		fmt.Println("ready")
		time.Sleep(time.Hour)
	case strings.HasPrefix(role, "seize:"):
		pid, err := strconv.Atoi(strings.TrimPrefix(role, "seize:"))
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		runtime.LockOSThread()
		if err := unix.PtraceSeize(pid); err != nil {
			fmt.Println(ExplainSeizeError(pid, err))
		} else {
			fmt.Println("OK")
		}
	default:
		fmt.Println("unknown role", role)
		os.Exit(1)
	}
	os.Exit(0)
}

// helperBinary copies the test binary where an unprivileged user can run it.
func helperBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "remainroot-diagnose-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(dir, "hook.test")
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func helperCmd(bin, role string, uid int) *exec.Cmd {
	cmd := exec.Command(bin, "-test.run=^TestDiagnoseHelper$")
	cmd.Env = append(os.Environ(), helperEnv+"="+role)
	if uid >= 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	return cmd
}

// startTarget starts a sleeping helper as uid and waits until it is ready.
func startTarget(t *testing.T, bin, role string, uid int) int {
	t.Helper()
	cmd := helperCmd(bin, role, uid)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("target %s: %q, %v", role, line, err)
	}
	return cmd.Process.Pid
}

// seizeAs runs the seize helper as uid against pid and returns its output.
func seizeAs(t *testing.T, bin string, pid, uid int) string {
	t.Helper()
	out, err := helperCmd(bin, "seize:"+strconv.Itoa(pid), uid).Output()
	if err != nil {
		t.Fatalf("seize helper: %v (%s)", err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestExplainSeizeErrorReal provokes real PTRACE_SEIZE failures and checks
// the explanation names the right cause. It needs root, to run helpers as
// other users.
func TestExplainSeizeErrorReal(t *testing.T) {
	testenv.RequireRoot(t) // helpers run as other users
	bin := helperBinary(t)
	const user, other = 65534, 65533

	dumpable := startTarget(t, bin, "target", user)
	nondumpable := startTarget(t, bin, "target-nondumpable", user)

	tests := []struct {
		name string
		pid  int
		uid  int
		want string
	}{
		{"same user, dumpable", dumpable, user, "OK"},
		{"other user", dumpable, other, fmt.Sprintf("the hook runs as uid %d gid %d but the init has uids %d/%d/%d/%d", other, other, user, user, user, user)},
		{"same user, non-dumpable", nondumpable, user, "the init is non-dumpable"},
		{"root, non-dumpable", nondumpable, 0, "OK"},
		{"gone", reapedPid(t), user, "no such process"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := seizeAs(t, bin, tt.pid, tt.uid)
			t.Logf("%s", got)
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
		})
	}

	t.Run("already traced", func(t *testing.T) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		target := startTarget(t, bin, "target", user)
		if err := unix.PtraceSeize(target); err != nil {
			t.Fatal(err)
		}
		got := seizeAs(t, bin, target, 0)
		want := fmt.Sprintf("already traced by pid %d", unix.Gettid())
		if !strings.Contains(got, want) {
			t.Errorf("got %q, want it to contain %q", got, want)
		}
	})
}
