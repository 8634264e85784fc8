package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/remainroot/remainroot/attach"
)

// attachCommand implements `remainroot attach PID`: seize every thread of a
// running process, install the filter, and emulate from now on for it and
// the processes it creates. It exits when they have all gone.
func attachCommand(args []string) int {
	fs := flag.NewFlagSet("attach", flag.ContinueOnError)
	var common commonFlags
	common.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(os.Stderr, "remainroot attach: want one PID\n%s", usage)
		return 2
	}
	pid, err := strconv.Atoi(fs.Arg(0))
	if err != nil || pid <= 0 {
		fmt.Fprintf(os.Stderr, "remainroot attach: %q is not a process id\n", fs.Arg(0))
		return 2
	}
	log, closer, err := common.setup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot attach: %v\n", err)
		return 2
	}
	defer closer.Close()

	filter := attach.FilterFor(pid)
	if common.full() {
		filter = filter.WithFiles()
	}
	_, err = attach.Trace(attach.Options{Log: log, Files: common.full()}, func(s *attach.Session) error {
		if err := s.SeizeProcess(pid, true); err != nil {
			return err
		}
		return s.InstallFilter(pid, filter, func(err error) {
			if err == nil {
				log.Info("attached", "target", pid, "filter", fmt.Sprintf("%+v", filter))
			}
		})
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot attach: %v\n", explain(err))
		return 1
	}
	return 0
}
