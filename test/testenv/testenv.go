// Package testenv provides shared helpers for remainroot's integration
// tests: building the remainroot binary, creating an unprivileged test user,
// building commands that run inside a single-id user namespace (the
// situation remainroot emulates) or inside a namespace that maps every id
// (the real kernel's behaviour for real root), compiling C helpers, and
// running commands with a timeout.
package testenv

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestUser is the name of the unprivileged account that UnprivUser creates:
// remainroot-test, or $REMAINROOT_TEST_USER (as for test/setup-env.sh), so
// that two runs of the rootless tests on one machine each have a podman
// storage of their own.
var TestUser = envOr("REMAINROOT_TEST_USER", "remainroot-test")

// envOr returns the environment variable name, or def when it is unset or
// empty.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Env is the minimal environment given to commands built by SingleIDCommand
// and FullMapCommand.
var Env = []string{
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/",
	"LANG=C",
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// ModuleRoot returns the directory holding the module's go.mod, found by
// walking up from the current working directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: no go.mod found above the working directory")
		}
		dir = parent
	}
}

// Binary builds the remainroot binary once per test process and returns its
// path. The binary and its directory are world-readable and executable so
// that an unprivileged user can run it. A build failure is fatal, with the
// compiler's output in the message.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "remainroot-bin-")
		if err != nil {
			buildErr = err
			return
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			buildErr = err
			return
		}
		out := filepath.Join(dir, "remainroot")
		cmd := exec.Command("go", "build", "-o", out, "github.com/remainroot/remainroot")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if output, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("testenv: go build failed: %v\n%s", err, output)
			return
		}
		if err := os.Chmod(out, 0o755); err != nil {
			buildErr = err
			return
		}
		buildPath = cacheBinary(dir, out)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// binCache holds built binaries by content, so that the many test
// processes of a `go test ./...` run share one copy instead of each leaving
// a directory behind.
var binCache = filepath.Join(os.TempDir(), "remainroot-bin-cache")

// cacheBinary moves the freshly built binary out (in its own directory dir)
// to binCache/<sha256>/ and returns its new path; if an identical binary is
// already cached, it removes dir and returns the cached one. Entries unused
// for a day are pruned. On any doubt about the cache directory (not ours,
// writable by others) it keeps out where it is.
func cacheBinary(dir, out string) string {
	if err := os.Mkdir(binCache, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return out
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(binCache, &st); err != nil ||
		st.Mode&syscall.S_IFMT != syscall.S_IFDIR || int(st.Uid) != os.Geteuid() || st.Mode&0o022 != 0 {
		return out
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return out
	}
	entry := filepath.Join(binCache, fmt.Sprintf("%x", sha256.Sum256(data)))
	now := time.Now()
	if err := os.Rename(dir, entry); err != nil {
		if _, serr := os.Stat(filepath.Join(entry, "remainroot")); serr != nil {
			return out
		}
		os.RemoveAll(dir)
	}
	os.Chtimes(entry, now, now)
	if old, err := os.ReadDir(binCache); err == nil {
		for _, e := range old {
			info, err := e.Info()
			if err == nil && e.Name() != filepath.Base(entry) && now.Sub(info.ModTime()) > 24*time.Hour {
				os.RemoveAll(filepath.Join(binCache, e.Name()))
			}
		}
	}
	return filepath.Join(entry, "remainroot")
}

// RequireRoot stops the test unless it runs with effective uid 0: it fails
// when the CI environment variable is set and skips otherwise.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	const reason = "test needs root (euid 0) to create users and user namespaces with arbitrary mappings"
	if os.Getenv("CI") != "" {
		t.Fatal(reason + " (CI is set, so this is a failure)")
	}
	t.Skip(reason)
}

// lockFile takes an exclusive flock on a lock file shared by every test
// process and returns a function that releases it.
func lockFile() (func(), error) {
	var f *os.File
	var err error
	for _, dir := range []string{"/run", os.TempDir()} {
		f, err = os.OpenFile(filepath.Join(dir, "remainroot-testenv.lock"), os.O_RDWR|os.O_CREATE, 0o600)
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// removeSubIDLines deletes from file (/etc/subuid or /etc/subgid) every
// line whose owner field is name or the numeric id.
func removeSubIDLines(file, name string, id int) error {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	idStr := strconv.Itoa(id)
	var kept []string
	changed := false
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if line == "" {
			continue
		}
		owner, _, _ := strings.Cut(strings.TrimSpace(line), ":")
		if owner == name || owner == idStr {
			changed = true
			continue
		}
		kept = append(kept, line)
	}
	if !changed {
		return nil
	}
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	tmp := file + ".remainroot-testenv"
	if err := os.WriteFile(tmp, []byte(strings.Join(kept, "")), st.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// UnprivUser ensures the unprivileged user TestUser exists and has no
// subordinate id range in /etc/subuid or /etc/subgid (so that it can only
// ever get a single-id user namespace), and returns its uid and gid. It is
// safe to call concurrently from several test processes. It needs root.
func UnprivUser(t testing.TB) (uid, gid int) {
	t.Helper()
	RequireRoot(t)
	unlock, err := lockFile()
	if err != nil {
		t.Fatalf("testenv: lock: %v", err)
	}
	defer unlock()

	u, err := user.Lookup(TestUser)
	if err != nil {
		args := []string{"-M", "-s", "/bin/sh"}
		if _, gerr := user.LookupGroup(TestUser); gerr == nil {
			args = append(args, "-g", TestUser)
		} else {
			args = append(args, "-U")
		}
		args = append(args, TestUser)
		if out, err := exec.Command("useradd", args...).CombinedOutput(); err != nil {
			t.Fatalf("testenv: useradd %v: %v\n%s", args, err, out)
		}
		if u, err = user.Lookup(TestUser); err != nil {
			t.Fatalf("testenv: user %s missing after useradd: %v", TestUser, err)
		}
	}
	uid, err = strconv.Atoi(u.Uid)
	if err != nil {
		t.Fatalf("testenv: bad uid %q", u.Uid)
	}
	gid, err = strconv.Atoi(u.Gid)
	if err != nil {
		t.Fatalf("testenv: bad gid %q", u.Gid)
	}
	if err := removeSubIDLines("/etc/subuid", TestUser, uid); err != nil {
		t.Fatalf("testenv: /etc/subuid: %v", err)
	}
	if err := removeSubIDLines("/etc/subgid", TestUser, gid); err != nil {
		t.Fatalf("testenv: /etc/subgid: %v", err)
	}
	return uid, gid
}

// PublicDir makes a temporary directory named after prefix, removed when
// the test ends, with mode 0755: what it holds can be read and run by the
// unprivileged user and by containers.
func PublicDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// WorkDir makes a temporary directory, removed when the test ends, with
// mode 0755 and the given owner.
func WorkDir(t testing.TB, uid, gid int) string {
	t.Helper()
	dir := PublicDir(t, "remainroot-cwd-")
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return dir
}

// SingleIDCommand returns a command that runs name with args as the
// unprivileged TestUser inside a fresh user namespace mapping only that
// user: uid_map "0 UID 1", gid_map "0 GID 1", setgroups "deny", uid 0 with a
// full capability set in the namespace and no supplementary groups. The
// working directory is a temporary directory owned by TestUser (so by root
// inside the namespace) and the environment is Env.
func SingleIDCommand(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	uid, gid := UnprivUser(t)
	argv := []string{
		"--reuid=" + strconv.Itoa(uid),
		"--regid=" + strconv.Itoa(gid),
		"--clear-groups",
		"--inh-caps=-all",
		"unshare", "--user", "--map-root-user", "--",
		name,
	}
	argv = append(argv, args...)
	cmd := exec.Command("setpriv", argv...)
	cmd.Dir = WorkDir(t, uid, gid)
	cmd.Env = append([]string(nil), Env...)
	return cmd
}

// FullMapCommand returns a command that runs name with args as real root in
// a new user namespace mapping every id (uid_map and gid_map
// "0 0 4294967295", setgroups "allow"), with uid and gid 0, no
// supplementary groups and a full capability set: the kernel's own
// behaviour for root, against which emulation is compared. The working
// directory is a temporary directory owned by root and the environment is
// Env.
func FullMapCommand(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	RequireRoot(t)
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 4294967295}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 4294967295}},
		GidMappingsEnableSetgroups: true,
		Credential:                 &syscall.Credential{Uid: 0, Gid: 0, Groups: []uint32{}},
	}
	cmd.Dir = WorkDir(t, 0, 0)
	cmd.Env = append([]string(nil), Env...)
	return cmd
}

// CompileC compiles the C file src into a static executable with
// `gcc -O2 -static -pthread` plus extraFlags and returns its path. The
// executable lives in a world-readable temporary directory removed when the
// test ends; its name is src's base name without ".c".
func CompileC(t testing.TB, src string, extraFlags ...string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "remainroot-cc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(src), ".c"))
	args := append([]string{"-O2", "-static", "-pthread", "-o", out, src}, extraFlags...)
	if output, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("testenv: gcc %s: %v\n%s", strings.Join(args, " "), err, output)
	}
	if err := os.Chmod(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// Run runs cmd in its own process group and returns its output and exit
// status (128+N when killed by signal N). Unless the caller set them,
// stdout and stderr are captured. If the command does not finish within
// timeout, its process group is killed and the test fails with the output
// gathered so far. A command that cannot start fails the test.
func Run(t testing.TB, cmd *exec.Cmd, timeout time.Duration) (stdout, stderr string, exitCode int) {
	t.Helper()
	var outBuf, errBuf lockedBuffer
	if cmd.Stdout == nil {
		cmd.Stdout = &outBuf
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &errBuf
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 5 * time.Second
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: start %v: %v", cmd.Args, err)
	}
	pid := cmd.Process.Pid
	var timedOut sync.Once
	expired := false
	timer := time.AfterFunc(timeout, func() {
		timedOut.Do(func() { expired = true })
		syscall.Kill(-pid, syscall.SIGKILL)
	})
	werr := cmd.Wait()
	stopped := timer.Stop()
	if !stopped {
		timedOut.Do(func() {})
	}
	stdout, stderr = outBuf.String(), errBuf.String()
	if expired {
		t.Fatalf("testenv: %v timed out after %v; killed its process group\nstdout:\n%s\nstderr:\n%s",
			cmd.Args, timeout, stdout, stderr)
	}
	// Kill anything left in the group (daemons the command forgot).
	syscall.Kill(-pid, syscall.SIGKILL)
	if cmd.ProcessState == nil {
		t.Fatalf("testenv: wait %v: %v", cmd.Args, werr)
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ok && ws.Signaled():
		exitCode = 128 + int(ws.Signal())
	default:
		exitCode = cmd.ProcessState.ExitCode()
	}
	return stdout, stderr, exitCode
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of two
// copying goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Need stops the test when a prerequisite is missing: a failure when the
// CI environment variable is set (CI must never skip silently), a skip
// otherwise.
func Need(t testing.TB, ok bool, format string, args ...any) {
	t.Helper()
	if ok {
		return
	}
	msg := "missing prerequisite: " + fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so this is a failure)")
	}
	t.Skip(msg)
}
