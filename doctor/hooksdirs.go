package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	hooks "go.podman.io/common/pkg/hooks"
	current "go.podman.io/common/pkg/hooks/1.0.0"

	"github.com/remainroot/remainroot/config"
)

// The hooks directory checks: podman finds remainroot's createRuntime and
// precreate hooks in its hooks_dir, and nothing there breaks podman.

const (
	checkHooksDir  = "podman: hooks_dir"
	checkPrecreate = "podman: precreate hook"
)

// podmanExtensionStages are the stages podman accepts beyond the OCI ones
// when it reads hooks directories (libpod); buildah accepts none.
var podmanExtensionStages = []string{"precreate", "poststop"}

// hooksDirCheck finds remainroot.json in podman's hooks directories and
// reads every document there as podman does: a malformed one makes podman
// refuse to run any container; one whose binary is missing is skipped.
func hooksDirCheck(o Options, conf config.ContainersConf, confErr error) Check {
	dirs, from := conf.HooksDirs, "hooks_dir in "+conf.HooksDirsFrom
	if conf.HooksDirsFrom == "" {
		from = "podman's default hooks_dir"
	}
	if len(o.HooksDirs) > 0 {
		dirs, from = o.HooksDirs, "--hooks-dir"
	} else if confErr != nil {
		return Failure(checkHooksDir, "Fix containers.conf.", "%v", confErr)
	}
	install := fmt.Sprintf("Install it with `make install` or the .deb, or write it with `remainroot hooks-json --path %s > DIR/%s` into one of them (or add a directory to hooks_dir in containers.conf).", o.Self, config.HooksFileName)
	if len(dirs) == 0 {
		return Failure(checkHooksDir, install, "%s is empty: podman runs no hooks", from)
	}
	r := readHooksDirs(dirs)
	if r.skipped[config.HooksFileName] != nil {
		return Failure(checkHooksDir, install, "%v: podman skips the hook, so annotated containers run without remainroot", r.skipped[config.HooksFileName])
	}
	found, foundPath, problems, missing := r.hooks[config.HooksFileName], r.paths[config.HooksFileName], r.problems, r.missing
	if len(problems) > 0 {
		return Failure(checkHooksDir, "Fix or remove the file: podman refuses to run any container while a hooks directory holds an invalid document.", "%s", strings.Join(problems, "; "))
	}
	if found == nil {
		absent := ""
		if len(missing) > 0 {
			absent = "; " + strings.Join(missing, ", ") + " does not exist"
		}
		return Failure(checkHooksDir, install, "no %s in %s (%s%s): annotated containers run without remainroot", config.HooksFileName, strings.Join(dirs, ", "), from, absent)
	}
	if !slices.Equal(found.Hook.Args, []string{"remainroot", "hook"}) || !slices.Contains(found.Stages, config.HookStage) {
		return Failure(checkHooksDir, install, "%s does not run `remainroot hook` at %s (args %q, stages %q)", foundPath, config.HookStage, found.Hook.Args, found.Stages)
	}
	ok, err := found.When.Match(&rspec.Spec{Process: &rspec.Process{Args: []string{"sh"}}}, map[string]string{config.AnnotationMode: "creds"}, false)
	if err != nil || !ok {
		return Failure(checkHooksDir, install, "%s does not match the annotation %s=creds", foundPath, config.AnnotationMode)
	}
	msg := fmt.Sprintf("%s (%s) runs %s; podman validates it", foundPath, from, found.Hook.Path)
	if same, _ := sameFile(found.Hook.Path, o.Self); !same && o.Self != "" {
		msg += fmt.Sprintf(" (doctor is %s)", o.Self)
	}
	return Pass(checkHooksDir, "%s", msg)
}

// hooksDirsRead is what podman finds in its hooks directories.
type hooksDirsRead struct {
	hooks    map[string]*current.Hook // by file name; a later directory's replaces an earlier one's
	paths    map[string]string
	skipped  map[string]error // valid documents podman skips: their binary does not exist
	problems []string         // invalid documents: podman refuses to run any container
	missing  []string         // directories that do not exist
}

// readHooksDirs reads every document of dirs as podman does
// (go.podman.io/common/pkg/hooks with podman's extension stages).
func readHooksDirs(dirs []string) hooksDirsRead {
	r := hooksDirsRead{hooks: map[string]*current.Hook{}, paths: map[string]string{}, skipped: map[string]error{}}
	for _, dir := range dirs {
		ents, err := os.ReadDir(dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				r.missing = append(r.missing, dir)
			} else {
				r.problems = append(r.problems, err.Error())
			}
			continue
		}
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), ".json") {
				continue
			}
			path := filepath.Join(dir, e.Name())
			h, err := hooks.Read(path, podmanExtensionStages)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				r.skipped[e.Name()] = fmt.Errorf("%s: %w", path, err)
				delete(r.hooks, e.Name())
			case err != nil:
				r.problems = append(r.problems, err.Error())
			default:
				r.hooks[e.Name()], r.paths[e.Name()] = h, path
				delete(r.skipped, e.Name())
			}
		}
	}
	return r
}

// precreateCheck finds the precreate hook (podman exec, --user), which
// `make install` puts in a directory of its own that a containers.conf
// drop-in adds to hooks_dir.
func precreateCheck(o Options, conf config.ContainersConf, confErr error) Check {
	dirs := conf.HooksDirs
	if len(o.HooksDirs) > 0 {
		dirs = o.HooksDirs
	} else if confErr != nil {
		return Failure(checkPrecreate, "Fix containers.conf.", "%v", confErr)
	}
	remedy := "Install it with `make install` or the .deb (a containers.conf.d drop-in adds its directory to hooks_dir), or list that directory in your own hooks_dir."
	r := readHooksDirs(dirs)
	if err := r.skipped[config.PrecreateFileName]; err != nil {
		return Failure(checkPrecreate, remedy, "%v: podman skips the hook", err)
	}
	h := r.hooks[config.PrecreateFileName]
	if h == nil {
		return Warning(checkPrecreate, remedy, "no %s in %s: processes of podman exec and containers run with --user are not traced", config.PrecreateFileName, strings.Join(dirs, ", "))
	}
	if !slices.Contains(h.Stages, "precreate") {
		return Failure(checkPrecreate, remedy, "%s has stages %q, not precreate", r.paths[config.PrecreateFileName], h.Stages)
	}
	return Pass(checkPrecreate, "%s runs %s (podman exec, --user)", r.paths[config.PrecreateFileName], h.Hook.Path)
}

func sameFile(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(sa, sb), nil
}
