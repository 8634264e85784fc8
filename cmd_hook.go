package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/remainroot/remainroot/config"
	"github.com/remainroot/remainroot/hook"
)

// hookCommand runs one of the hook stages: `hook precreate` (podman's
// precreate: the config on stdin, the rewritten config on stdout) or
// `hook [--mode M]` (createRuntime: the state on stdin; --mode for the
// build hooks directory, whose RUN containers carry no annotations).
func hookCommand(args []string) int {
	if len(args) > 0 && args[0] == hook.PrecreateArg {
		return hook.RunPrecreate(os.Stdin, os.Stdout, os.Stderr)
	}
	fs := flag.NewFlagSet("hook", flag.ContinueOnError)
	mode := fs.String("mode", "", "emulation mode, instead of the io.remainroot.mode annotation: creds or full")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *mode == "" {
		return hook.Run(os.Stdin, os.Stderr)
	}
	m, err := config.ParseMode(*mode)
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot hook: --mode: %v\n", err)
		return 2
	}
	return hook.RunWithMode(&m, os.Stdin, os.Stderr)
}
