package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"

	"github.com/remainroot/remainroot/config"
	"github.com/remainroot/remainroot/doctor"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// doctorCommand checks the host's setup for remainroot and prints one line
// per check; it exits 1 when a check fails.
func doctorCommand(args []string) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the checks as JSON")
	containersConf := fs.String("containers-conf", "", "read only this containers.conf (default: $"+config.EnvContainersConf+", else podman's files)")
	storageConf := fs.String("storage-conf", "", "read this storage.conf (default: $"+config.EnvStorageConf+", else podman's file)")
	buildHooks := fs.String("build-hooks-dir", "", "the build hooks directory (default: PREFIX/share/remainroot/build-hooks.d of this binary)")
	var hooksDirs stringList
	fs.Var(&hooksDirs, "hooks-dir", "check this hooks directory instead of containers.conf's hooks_dir (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "remainroot doctor: unexpected argument %q\n", fs.Arg(0))
		return 2
	}

	euid := os.Geteuid()
	places := config.PlacesFromEnv(euid != 0)
	if *containersConf != "" {
		places.ContainersConf = *containersConf
	}
	if *storageConf != "" {
		places.StorageConf = *storageConf
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot doctor: %v\n", err)
		return 1
	}
	name := strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	podman, _ := exec.LookPath("podman")

	checks := doctor.All(doctor.Options{
		Places:        places,
		HooksDirs:     hooksDirs,
		BuildHooksDir: *buildHooks,
		Self:          self,
		EUID:          euid,
		User:          name,
		Podman:        podman,
	})

	if *asJSON {
		err = doctor.WriteJSON(os.Stdout, version, euid, checks)
	} else {
		err = doctor.WriteText(os.Stdout, checks)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot doctor: %v\n", err)
		return 1
	}
	if doctor.Failed(checks) {
		return 1
	}
	return 0
}
