package runtimewrap

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// Exec rewrites the bundle's config.json with rewrite when args create a
// container, then replaces this process with the real runtime run with
// args. It returns only on an error.
func Exec(runtime string, args []string, rewrite func([]byte) ([]byte, error)) error {
	path, err := exec.LookPath(runtime)
	if err != nil {
		return fmt.Errorf("runtime %s: %w", runtime, err)
	}
	if bundle, ok := bundleOf(args); ok {
		if err := rewriteBundle(bundle, rewrite); err != nil {
			return err
		}
	}
	err = syscall.Exec(path, append([]string{runtime}, args...), os.Environ())
	return fmt.Errorf("exec %s: %w", path, err)
}
