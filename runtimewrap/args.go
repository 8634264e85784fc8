package runtimewrap

import "strings"

// globalValueFlags are the runtime's global options that take a value as
// the next argument (runc's and crun's).
var globalValueFlags = map[string]bool{"--root": true, "--log": true, "--log-format": true, "--criu": true, "--cgroup-manager": true}

// bundleOf returns the bundle directory of a runtime command line when its
// command creates a container (`create`, `run`): the value of --bundle or
// -b, "." without one. ok is false for other commands.
func bundleOf(args []string) (bundle string, ok bool) {
	cmd := -1
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			if globalValueFlags[a] {
				i++
			}
			continue
		}
		cmd = i
		break
	}
	if cmd < 0 || (args[cmd] != "create" && args[cmd] != "run") {
		return "", false
	}
	bundle = "."
	for i := cmd + 1; i < len(args); i++ {
		switch a := args[i]; {
		case (a == "--bundle" || a == "-b") && i+1 < len(args):
			bundle = args[i+1]
			i++
		case strings.HasPrefix(a, "--bundle="):
			bundle = strings.TrimPrefix(a, "--bundle=")
		}
	}
	return bundle, true
}
