package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/remainroot/remainroot/config"
	"github.com/remainroot/remainroot/hook"
)

// hooksJSON prints a hooks.d document that runs this binary (or --path):
// the createRuntime hook `make install` writes as remainroot.json, or with
// --precreate the precreate hook (remainroot-precreate.json), or with
// --build the build hooks directory's (remainroot-build.json); or with
// --drop-in DIR the containers.conf drop-in that makes podman read DIR.
func hooksJSON(args []string) int {
	fs := flag.NewFlagSet("hooks-json", flag.ContinueOnError)
	path := fs.String("path", "", "installed path of remainroot (default: this binary)")
	precreate := fs.Bool("precreate", false, "the precreate hook (podman exec and --user)")
	build := fs.Bool("build", false, "the build hooks directory's hook (podman build --hooks-dir)")
	mode := fs.String("mode", "creds", "with --build: the mode of RUN steps, creds or full")
	dropIn := fs.String("drop-in", "", "print the containers.conf drop-in that adds this precreate hooks directory")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dropIn != "" {
		os.Stdout.Write(hook.PrecreateDropIn(*dropIn))
		return 0
	}
	if *path == "" {
		self, err := os.Executable()
		if err != nil {
			fmt.Fprintf(os.Stderr, "remainroot hooks-json: %v\n", err)
			return 1
		}
		*path = self
	}
	var data []byte
	var err error
	switch {
	case *precreate && *build:
		fmt.Fprintln(os.Stderr, "remainroot hooks-json: --precreate and --build exclude each other")
		return 2
	case *precreate:
		data, err = hook.PrecreateHooksJSON(*path)
	case *build:
		m, perr := config.ParseMode(*mode)
		if perr != nil {
			fmt.Fprintf(os.Stderr, "remainroot hooks-json: --mode: %v\n", perr)
			return 2
		}
		data, err = hook.BuildHooksJSON(*path, m)
	default:
		data, err = hook.HooksJSON(*path)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot hooks-json: %v\n", err)
		return 1
	}
	os.Stdout.Write(data)
	return 0
}
