package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/remainroot/remainroot/config"
	"github.com/remainroot/remainroot/hook"
	"github.com/remainroot/remainroot/runtimewrap"
)

// runtimeCommand is `remainroot runtime [--runtime R] [--mode M] --
// RUNTIME-ARGS...`: the OCI runtime wrapper `remainroot build` gives
// `podman build --runtime` (see package runtimewrap). A container's
// config.json goes through the precreate hook's rewrite, with mode M
// (default full) unless the config's annotations name one.
func runtimeCommand(args []string) int {
	fs := flag.NewFlagSet("runtime", flag.ContinueOnError)
	rt := fs.String("runtime", "", "the real runtime: crun, runc or a path (default: crun if found, else runc)")
	mode := fs.String("mode", "full", "emulation mode of the containers: creds or full")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	m, err := config.ParseMode(*mode)
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot runtime: --mode: %v\n", err)
		return 2
	}
	if *rt == "" {
		*rt = defaultRuntime()
	}
	rewrite := func(cfg []byte) ([]byte, error) {
		cfg, err := runtimewrap.WithAnnotation(cfg, config.AnnotationMode, m.String())
		if err != nil {
			return nil, err
		}
		var out, stderr bytes.Buffer
		if hook.RunPrecreate(bytes.NewReader(cfg), &out, &stderr) != 0 {
			return nil, errors.New(strings.TrimSpace(stderr.String()))
		}
		return out.Bytes(), nil
	}
	err = runtimewrap.Exec(*rt, fs.Args(), rewrite)
	fmt.Fprintf(os.Stderr, "remainroot runtime: %v\n", err)
	return 1
}

// defaultRuntime is crun when it is installed, else runc (podman's
// order).
func defaultRuntime() string {
	if _, err := exec.LookPath("crun"); err == nil {
		return "crun"
	}
	return "runc"
}
