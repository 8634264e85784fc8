package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The hooks directories as `make install` lays them out: remainroot.json
// (createRuntime) in podman's hooks directory, the precreate hook in a
// directory of its own (that the installed containers.conf drop-in adds to
// hooks_dir), and the build hooks directories. Tests pass them with
// --hooks-dir instead of installing anything into /etc or /usr.

var (
	routeOnce sync.Once
	routeDirs map[string]string // "precreate", "build-creds", "build-full"
	routeErr  error
)

// hooksFileDir writes one hooks document from `bin hooks-json ARGS...` as
// name into a new world-readable directory.
func hooksFileDir(bin, name string, args ...string) (string, error) {
	out, err := exec.Command(bin, append([]string{"hooks-json", "--path", bin}, args...)...).Output()
	if err != nil {
		return "", fmt.Errorf("%s hooks-json %v: %v", bin, args, err)
	}
	dir, err := os.MkdirTemp("", "remainroot-e2e-hooks-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, name), out, 0o644)
}

func routeDir(t testing.TB, bin, kind string) string {
	t.Helper()
	routeOnce.Do(func() {
		routeDirs = map[string]string{}
		for kind, args := range map[string][]string{
			"precreate":   {"--precreate"},
			"build-creds": {"--build", "--mode", "creds"},
			"build-full":  {"--build", "--mode", "full"},
		} {
			name := "remainroot-build.json"
			if kind == "precreate" {
				name = "remainroot-precreate.json"
			}
			d, err := hooksFileDir(bin, name, args...)
			if err != nil {
				routeErr = err
				return
			}
			routeDirs[kind] = d
			extraHookDirs = append(extraHookDirs, d)
		}
	})
	if routeErr != nil {
		t.Fatal(routeErr)
	}
	return routeDirs[kind]
}

// extraHookDirs are removed when the tests end (TestMain).
var extraHookDirs []string

// installedHooksArgs are podman's global flags for the installed layout:
// both the createRuntime and the precreate hooks directories.
func installedHooksArgs(t testing.TB, bin string) []string {
	t.Helper()
	return []string{"--hooks-dir", hooksDir(t, bin), "--hooks-dir", routeDir(t, bin, "precreate")}
}

// buildHooksDir is the build hooks directory of mode ("creds", "full").
func buildHooksDir(t testing.TB, bin, mode string) string {
	t.Helper()
	return routeDir(t, bin, "build-"+mode)
}

// supervisors lists the running container supervisors (argv[1] is the
// hidden role), each with the id of its container as its open log file
// names it (<id>.log; unknown until the runtime's first message).
func supervisors() []tracerProc {
	var list []tracerProc
	for _, sp := range procsWithRole(supervisorRole) {
		p := tracerProc{pid: sp.pid, cmdline: strings.Join(sp.argv, " ")}
		dir := filepath.Join("/proc", strconv.Itoa(sp.pid), "fd")
		fds, _ := os.ReadDir(dir)
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join(dir, fd.Name()))
			if err == nil && strings.HasSuffix(target, ".log") {
				p.id = strings.TrimSuffix(filepath.Base(target), ".log")
			}
		}
		list = append(list, p)
	}
	return list
}

// supervisorRole is the supervisor's hidden argv[1] (hook.SupervisorRole).
const supervisorRole = "__supervise"
