package nri

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// RuntimeWrapperPrefix names remainroot's OCI runtime wrappers: a link
// remainroot-runc (or remainroot-crun) to remainroot, given as
// containerd's runtime BinaryName, runs the runc found in PATH after
// fixing pod sandboxes' configs (fixSandboxSpec).
const RuntimeWrapperPrefix = "remainroot-"

// wrappableRuntimes are the runtimes a wrapper link may name.
var wrappableRuntimes = []string{"runc", "crun"}

// WrappedRuntime is the runtime a wrapper link named argv0 stands for
// ("" when argv0 is not such a link).
func WrappedRuntime(argv0 string) string {
	name, ok := strings.CutPrefix(filepath.Base(argv0), RuntimeWrapperPrefix)
	if !ok || !slices.Contains(wrappableRuntimes, name) {
		return ""
	}
	return name
}

// WrapRuntime runs the OCI runtime named runtime (looked up in PATH) with
// args, its command line, after fixSandboxSpec for `create --bundle B`;
// it returns only on failure.
func WrapRuntime(runtime string, args []string) error {
	path, err := exec.LookPath(runtime)
	if err != nil {
		return fmt.Errorf("find the runtime: %w", err)
	}
	if self, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(path); err == nil && real == self {
			return fmt.Errorf("%s is this wrapper: put the real %s first in PATH", path, runtime)
		}
	}
	if bundle := createBundle(args); bundle != "" {
		if _, err := fixSandboxSpec(filepath.Join(bundle, "config.json")); err != nil {
			return err
		}
	}
	return syscall.Exec(path, append([]string{runtime}, args...), os.Environ())
}

// createBundle is the bundle of a `create` command line, "" for others.
func createBundle(args []string) string {
	if !slices.Contains(args, "create") {
		return ""
	}
	for i, a := range args {
		switch {
		case (a == "--bundle" || a == "-b") && i+1 < len(args):
			return args[i+1]
		case strings.HasPrefix(a, "--bundle="):
			return strings.TrimPrefix(a, "--bundle=")
		}
	}
	return "." // the runtimes' default bundle: the working directory
}
