package doctor

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	hooks "go.podman.io/common/pkg/hooks"

	"github.com/remainroot/remainroot/config"
)

// The build hooks checks: `podman build --hooks-dir` finds a valid hook in
// the build hooks directories installed beside this binary.

const checkBuildHooks = "podman build: hooks directory"

// The build hooks directories `make install` puts under $(PREFIX)/share,
// for `podman build --hooks-dir DIR`, by mode.
func buildHooksChecks(o Options) []Check {
	dirs := config.BuildHooksDirs(o.Self)
	modes := []string{"creds", "full"}
	if o.BuildHooksDir != "" {
		dirs, modes = map[string]string{"": o.BuildHooksDir}, []string{""}
	}
	var out []Check
	for _, mode := range modes {
		name := checkBuildHooks
		if mode != "" {
			name += " (mode " + mode + ")"
		}
		out = append(out, buildHooksCheck(name, dirs[mode]))
	}
	return out
}

// buildHooksCheck reads a build hooks directory as buildah does (no
// extension stages).
func buildHooksCheck(name, dir string) Check {
	path := filepath.Join(dir, config.BuildFileName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return Warning(name, "Install it with `make install` or the .deb to run `podman build` RUN steps under remainroot.", "no %s", path)
	}
	h, err := hooks.Read(path, nil)
	if err != nil {
		return Failure(name, "Reinstall remainroot (`make install` or the .deb): podman build fails with an invalid hooks directory.", "%s: %v", path, err)
	}
	return Pass(name, "%s runs %s: use `podman build --hooks-dir %s ...` (containers.conf's hooks_dir does not apply to builds)", path, strings.Join(h.Hook.Args, " "), dir)
}
