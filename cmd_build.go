package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/remainroot/remainroot/config"
	"github.com/remainroot/remainroot/imagefix"
)

// buildCommand is `remainroot build [--build-hooks-dir DIR] [podman build
// args]`: podman build with the mode full build hooks directory (RUN steps
// see and record owners) and `remainroot runtime` as its runtime (RUN
// steps after USER with an id the mapping lacks), then fix-image of the
// result, which gets the build's --tag names. It prints the fixed image's
// ID last.
func buildCommand(args []string) int {
	hooksDir, podmanArgs, err := buildHooksDirArg(args)
	if err == nil && hooksDir == "" {
		hooksDir, err = installedFullBuildHooks()
	}
	if err == nil {
		err = requireBuildHooks(hooksDir)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot build: %v\n", err)
		return 2
	}
	log, _ := commandLogger("info")
	tmp, err := os.MkdirTemp("", "remainroot-build-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot build: %v\n", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	iidFile := filepath.Join(tmp, "iid")
	if f := flagValues(podmanArgs, "iidfile", ""); len(f) > 0 {
		iidFile = f[len(f)-1]
	}

	runtimes, podmanArgs := takeFlag(podmanArgs, "runtime")
	realRuntime := defaultRuntime()
	if len(runtimes) > 0 {
		realRuntime = runtimes[len(runtimes)-1]
	}
	wrapper, err := writeRuntimeWrapper(tmp, realRuntime)
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot build: %v\n", err)
		return 1
	}

	start := time.Now()
	cmd := exec.Command("podman", append([]string{"build", "--hooks-dir", hooksDir, "--runtime", wrapper, "--iidfile", iidFile}, podmanArgs...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			fmt.Fprintf(os.Stderr, "remainroot build: podman build failed (exit %d)\n", exit.ExitCode())
			return exit.ExitCode()
		}
		fmt.Fprintf(os.Stderr, "remainroot build: %v\n", err)
		return 1
	}
	data, err := os.ReadFile(iidFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot build: podman build left no image ID: %v\n", err)
		return 1
	}
	id := strings.TrimPrefix(strings.TrimSpace(string(data)), "sha256:")
	tags := flagValues(podmanArgs, "tag", "t")
	fixed, err := fixImage(id, tags, imagefix.Options{BaseLayers: -1, BuiltSince: start, Log: log}, log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot build: fix-image of %s: %v\n", id, err)
		return 1
	}
	fmt.Println(fixed)
	return 0
}

// buildHooksDirArg takes remainroot's own leading --build-hooks-dir DIR
// (or =DIR) off args.
func buildHooksDirArg(args []string) (dir string, rest []string, err error) {
	const name = "--build-hooks-dir"
	switch {
	case len(args) > 0 && args[0] == name:
		if len(args) < 2 {
			return "", nil, fmt.Errorf("%s needs a directory", name)
		}
		return args[1], args[2:], nil
	case len(args) > 0 && strings.HasPrefix(args[0], name+"="):
		return strings.TrimPrefix(args[0], name+"="), args[1:], nil
	}
	return "", args, nil
}

// installedFullBuildHooks is the mode full build hooks directory `make
// install` puts beside this binary: $(PREFIX)/share/remainroot/build-hooks-full.d.
func installedFullBuildHooks() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	return config.BuildHooksDirs(self)["full"], nil
}

// requireBuildHooks checks that dir holds the build hook document.
func requireBuildHooks(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "remainroot-build.json")); err != nil {
		return fmt.Errorf("no build hook in %s (make install puts it there; or give --build-hooks-dir DIR first): %w", dir, err)
	}
	return nil
}

// writeRuntimeWrapper writes the runtime podman build is given: a script
// in dir that runs `remainroot runtime --runtime REAL` (buildah runs the
// runtime's path with the runtime's own arguments only).
func writeRuntimeWrapper(dir, real string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "runtime")
	script := "#!/bin/sh\nexec " + shellWord(self) + " runtime --runtime " + shellWord(real) + " --mode full -- \"$@\"\n"
	return path, os.WriteFile(path, []byte(script), 0o700)
}

// shellWord quotes s for sh.
func shellWord(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// takeFlag takes the values of --long V and --long=V off args.
func takeFlag(args []string, long string) (values, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return values, append(rest, args[i:]...)
		case a == "--"+long && i+1 < len(args):
			values = append(values, args[i+1])
			i++
		case strings.HasPrefix(a, "--"+long+"="):
			values = append(values, strings.TrimPrefix(a, "--"+long+"="))
		default:
			rest = append(rest, a)
		}
	}
	return values, rest
}

// flagValues returns the values podman build args give a flag, as
// --long V, --long=V, -s V or -s=V.
func flagValues(args []string, long, short string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		for _, n := range []string{"--" + long, "-" + short} {
			if n == "-" {
				continue
			}
			if a == n && i+1 < len(args) {
				out = append(out, args[i+1])
				i++
			} else if v, ok := strings.CutPrefix(a, n+"="); ok {
				out = append(out, v)
			}
		}
	}
	return out
}
