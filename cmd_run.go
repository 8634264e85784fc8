package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach"
	"github.com/remainroot/remainroot/attach/fallback"
)

// inProcessDefault is --in-process's default: false until the route
// lands (issue 19).
var inProcessDefault = false

// runCommand implements `remainroot run`: start CMD traced and exit with its
// status, 128+N when it died of signal N.
func runCommand(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var common commonFlags
	common.register(fs)
	statsFile := fs.String("stats", "", "write tracer statistics (JSON) to this file at exit")
	inProcess := fs.Bool("in-process", inProcessDefault, "mode full: answer stats inside each process (experimental; docs/in-process-route.md)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	argv := fs.Args()
	if len(argv) == 0 {
		fmt.Fprintf(os.Stderr, "remainroot run: no command given\n%s", usage)
		return 2
	}
	log, closer, err := common.setup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot run: %v\n", err)
		return 2
	}
	defer closer.Close()

	if *inProcess && !common.full() {
		if inProcessDefault {
			*inProcess = false
		} else {
			fmt.Fprintln(os.Stderr, "remainroot run: --in-process needs --mode full")
			return 2
		}
	}
	jobs := newJobControl(log)
	res, err := attach.Trace(attach.Options{
		Log:             log,
		EmulateFromExec: true,
		Files:           common.full(),
		Lazy:            !common.full() || *inProcess,
		InProcess:       *inProcess,
		OnMainStop:      jobs.mainStopped,
	}, func(s *attach.Session) error {
		pid, err := s.StartCommand(attach.Command{Argv: argv, Files: common.full(), InProcess: *inProcess, Foreground: jobs.foreground})
		if err != nil {
			return err
		}
		jobs.start(pid)
		return nil
	})
	jobs.stop()
	fallback.Stop()
	if *statsFile != "" {
		if err := writeStats(*statsFile, res); err != nil {
			log.Error("write stats", "err", err)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot run: %v\n", explain(err))
		return 125
	}
	if !res.MainExited {
		fmt.Fprintln(os.Stderr, "remainroot run: the command's exit status was not seen")
		return 125
	}
	ws := res.MainStatus
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// explain adds the likely remedy to errors a user can act on.
func explain(err error) error {
	switch {
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("%w (ptrace was refused: see /proc/sys/kernel/yama/ptrace_scope, or run inside the user namespace that owns the target)", err)
	}
	return err
}
