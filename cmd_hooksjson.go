package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/remainroot/remainroot/hook"
)

// hooksJSON prints the hooks.d document that runs this binary (or --path)
// as the createRuntime hook; `make install` writes it as remainroot.json.
func hooksJSON(args []string) int {
	fs := flag.NewFlagSet("hooks-json", flag.ContinueOnError)
	path := fs.String("path", "", "installed path of remainroot (default: this binary)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" {
		self, err := os.Executable()
		if err != nil {
			fmt.Fprintf(os.Stderr, "remainroot hooks-json: %v\n", err)
			return 1
		}
		*path = self
	}
	data, err := hook.HooksJSON(*path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot hooks-json: %v\n", err)
		return 1
	}
	os.Stdout.Write(data)
	return 0
}
