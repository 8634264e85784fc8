// Command remainroot lets unmodified programs run in a user namespace that
// maps a single id: it traces them with ptrace and seccomp and answers their
// credential system calls (set*id, get*id, setgroups, capabilities, chown)
// the way the kernel would answer real root.
//
// Usage:
//
//	remainroot run [flags] -- CMD [ARG...]   run CMD traced
//	remainroot attach [flags] PID            trace a running process
//	remainroot hook                          OCI createRuntime hook
//	remainroot doctor [--json]               check the host's setup
//	remainroot version
package main

import (
	"fmt"
	"os"

	"github.com/remainroot/remainroot/attach"
	"github.com/remainroot/remainroot/attach/fallback"
	"github.com/remainroot/remainroot/hook"
)

const usage = `usage:
  remainroot run [--mode creds] [--log-level L] [--log-file F] [--stats F] -- CMD [ARG...]
  remainroot attach [--mode creds] [--log-level L] [--log-file F] PID
  remainroot hook [--mode M]          (OCI createRuntime hook: container state on stdin)
  remainroot hook precreate           (podman precreate hook: config.json on stdin and stdout)
  remainroot build [--build-hooks-dir DIR] [PODMAN-BUILD-ARGS...]
                                      podman build in mode full, image fixed so its layers carry the owners
  remainroot fix-image [--tag NEW] [--base-layers N] IMAGE
                                      turn owner records of IMAGE's layers into tar owners: the
                                      build layers rewritten from podman's storage, loaded as a new image
  remainroot runtime ...              OCI runtime wrapper for builds (podman build --runtime)
  remainroot nri [--config F]         NRI plugin for containerd and CRI-O nodes
  remainroot hooks-json [--path BIN] [--precreate | --build [--mode M]]
                                      print a hooks.d document for BIN
  remainroot doctor [--json]          check this host's setup for remainroot
  remainroot version
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	var code int
	switch cmd {
	case attach.LaunchRole:
		code = launch(args)
	case attach.DoorbellRole:
		attach.Doorbell()
	case fallback.Role:
		code = fallback.Main()
	case hook.TracerRole:
		code = hook.TracerMain(args)
	case hook.SupervisorRole:
		code = hook.SupervisorMain(args)
	case "hook":
		code = hookCommand(args)
	case "hooks-json":
		code = hooksJSON(args)
	case "doctor":
		code = doctorCommand(args)
	case nriCommandName:
		code = nriCommand(args)
	case fixImageStoreRole:
		code = fixImageStoreCommand(args)
	case "fix-image":
		code = fixImageCommand(args)
	case "build":
		code = buildCommand(args)
	case "runtime":
		code = runtimeCommand(args)
	case "run":
		code = runCommand(args)
	case "attach":
		code = attachCommand(args)
	case "version", "--version":
		fmt.Println("remainroot", version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "remainroot: unknown command %q\n%s", cmd, usage)
		code = 2
	}
	os.Exit(code)
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// launch is the hidden launcher role of `run` (see attach.Launch).
func launch(args []string) int {
	code, err := attach.Launch(args)
	fmt.Fprintf(os.Stderr, "remainroot: %v\n", err)
	return code
}
