package hook

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach"
	"github.com/remainroot/remainroot/attach/seccomp"
	"github.com/remainroot/remainroot/config"
)

// filterName and filterByName carry the filter choice to the tracer.
func filterName(f seccomp.Filter) string {
	name := "setter"
	if f.Getters {
		name = "full"
	}
	if f.Files {
		name += "+files"
	}
	return name
}

func filterByName(name string) seccomp.Filter {
	base, files := strings.CutSuffix(name, "+files")
	f := seccomp.FullFilter
	if base == "setter" {
		f = seccomp.SetterFilter
	}
	if files {
		f = f.WithFiles()
	}
	return f
}

// TracerMain is the detached tracer the hook starts: it seizes the
// container's init, installs the filter, reports to the hook, and traces
// until the container's last process has gone. Emulation begins at the
// exec of the container's process: the runtime's own set*id calls before
// it pass through untouched.
func TracerMain(args []string) int {
	fs := flag.NewFlagSet(TracerRole, flag.ContinueOnError)
	pid := fs.Int("pid", 0, "container init pid")
	level := fs.String("log-level", "info", "log level")
	logFile := fs.String("log-file", os.DevNull, "log file")
	filter := fs.String("filter", "full", "setter or full")
	id := fs.String("id", "", "container id, for logs")
	bundle := fs.String("bundle", "", "the container's bundle (mode full: where its image's owners are found)")
	report := os.NewFile(readyFd, "remainroot-report")
	if err := fs.Parse(args); err != nil || *pid <= 0 {
		sendMessage(report, message{Error: "internal: bad tracer arguments"})
		return 2
	}
	lvl, err := config.ParseLogLevel(*level)
	if err != nil {
		lvl = slog.LevelInfo
	}
	// The hook chose the file; it is checked again here, where it is
	// opened for good (openLogFile: a safe directory, no symbolic link).
	var handler slog.Handler = slog.DiscardHandler
	if *logFile != os.DevNull {
		if f, err := openLogFile(*logFile); err == nil {
			defer f.Close()
			handler = slog.NewTextHandler(f, &slog.HandlerOptions{Level: lvl})
		} else {
			fmt.Fprintf(os.Stderr, "remainroot tracer: %v: logging nowhere\n", err)
		}
	}
	log := slog.New(handler).
		With("container", *id, "init", *pid, "tracer", os.Getpid())
	f := filterByName(*filter)

	reported := false
	tell := func(m message) {
		if !reported {
			reported = true
			sendMessage(report, m)
			report.Close()
		}
	}
	opts := attach.Options{Log: log, EmulateFromExec: true, Files: f.Files}
	if f.Files && *bundle != "" {
		// Read while the container starts: the hook's wait for the
		// report below does not include it.
		images := startImageOwners(log, *bundle, *id)
		defer images.wait()
		opts.ImageOwners = images.Owners
	}
	res, err := attach.Trace(opts, func(s *attach.Session) error {
		if err := s.SeizeProcess(*pid, false); err != nil {
			return err
		}
		s.SetMain(*pid)
		return s.InstallFilter(*pid, f, func(err error) {
			if err != nil {
				tell(message{Error: fmt.Sprintf("install the seccomp filter in container init %d: %v", *pid, err)})
				return
			}
			log.Info("attached", "filter", *filter)
			tell(message{Ready: true})
		})
	})
	if err != nil {
		log.Error("trace ended", "err", err)
		tell(message{Error: describeAttachError(*pid, err)})
		return 1
	}
	log.Info("container gone; tracer exits", "stops", res.Stops)
	return 0
}

func describeAttachError(pid int, err error) string {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ESRCH) {
		return ExplainSeizeError(pid, err)
	}
	return err.Error()
}
