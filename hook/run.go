package hook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/remainroot/remainroot/config"
)

// ReadyTimeout bounds how long the hook waits for the tracer.
const ReadyTimeout = 20 * time.Second

// Run is the createRuntime hook: read the state, start the detached tracer
// on the container's init, and wait until it reports that every thread is
// seized and filtered. Any failure is one line on stderr and a non-zero
// exit, so the runtime does not start the container half-emulated.
//
// crun gives hooks /dev/null for stderr: the line then only reaches the
// container's log file (and the user only with crun's annotation
// run.oci.hooks.stderr=FILE).
//
// Without a safe log directory (see pickLogFile) the tracer logs nowhere,
// which the hook says once on stderr: in its failure line if it fails.
func Run(stdin io.Reader, stderr io.Writer) int { return RunWithMode(nil, stdin, stderr) }

// RunWithMode is Run for a hook whose mode comes from its arguments (the
// build hooks directory's: RUN containers carry no annotations); nil reads
// it from the io.remainroot.mode annotation.
func RunWithMode(mode *config.Mode, stdin io.Reader, stderr io.Writer) int {
	var logErr error
	logFile, err := run(stdin, mode, &logErr)
	if err != nil {
		line := fmt.Sprintf("remainroot hook: %v", err)
		if logErr != nil {
			line += fmt.Sprintf(" (%v)", logErr)
		}
		fmt.Fprintln(stderr, line)
		if logFile != "" && logFile != os.DevNull {
			if f, ferr := openLogFile(logFile); ferr == nil {
				fmt.Fprintf(f, "time=%s level=ERROR msg=%q\n", time.Now().UTC().Format(time.RFC3339Nano), line)
				f.Close()
			}
		}
		return 1
	}
	if logErr != nil {
		fmt.Fprintf(stderr, "remainroot hook: %v: the tracer logs nowhere\n", logErr)
	}
	return 0
}

// run does the hook's work; it sets *logErr when no log file could be
// chosen.
func run(stdin io.Reader, mode *config.Mode, logErr *error) (logFile string, err error) {
	st, err := ParseState(stdin)
	if err != nil {
		return "", err
	}
	if st.Annotations[AnnotationSupervisor] != "" {
		// The precreate hook rewrote this container's config: its
		// supervisor receives every process from the runtime.
		return "", nil
	}
	var settings config.HookSettings
	if mode != nil {
		settings, err = config.WithMode(*mode, st.Annotations)
	} else {
		settings, err = config.FromAnnotations(st.Annotations)
	}
	if err != nil {
		return "", err
	}
	logFile, *logErr = openLogPath(settings.LogDir, st.ID)
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", st.Pid)); err != nil {
		return logFile, fmt.Errorf("container init %d is gone before the hook ran: %w", st.Pid, err)
	}
	filter := filterForBundle(st.Bundle)
	if settings.Mode == config.ModeFull {
		filter = filter.WithFiles()
	}

	self, err := os.Executable()
	if err != nil {
		return logFile, fmt.Errorf("find own executable: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return logFile, fmt.Errorf("pipe: %w", err)
	}
	defer r.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return logFile, err
	}
	defer null.Close()
	args := []string{"remainroot", TracerRole, "--pid", strconv.Itoa(st.Pid),
		"--log-level", strings.ToLower(settings.LogLevel.String()), "--log-file", logFile,
		"--filter", filterName(filter), "--id", st.ID, "--bundle", st.Bundle}
	// Detached: its own session, stdio on /dev/null (runc waits for EOF on
	// the hook's stdout and stderr), and only the report pipe inherited.
	proc, err := os.StartProcess(self, args, &os.ProcAttr{
		Files: []*os.File{null, null, null, w},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	w.Close()
	if err != nil {
		return logFile, fmt.Errorf("start tracer: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ReadyTimeout)
	defer cancel()
	got := make(chan struct {
		m   message
		err error
	}, 1)
	go func() {
		m, err := readMessage(r)
		got <- struct {
			m   message
			err error
		}{m, err}
	}()
	select {
	case <-ctx.Done():
		proc.Kill()
		proc.Wait()
		return logFile, fmt.Errorf("the tracer did not attach to %d within %s (log: %s)", st.Pid, ReadyTimeout, logFile)
	case g := <-got:
		if g.err == nil && g.m.Ready {
			// The tracer lives on; the container's subreaper or init reaps it.
			proc.Release()
			return logFile, nil
		}
		proc.Kill()
		proc.Wait()
		if g.err != nil {
			return logFile, fmt.Errorf("%w (log: %s)", g.err, logFile)
		}
		return logFile, errors.New(g.m.Error)
	}
}

// openLogPath picks the container's log file: the first of the configured
// directory and a per-user temporary directory that is safe (pickLogFile)
// and in which the file can be created (rootless podman runs the hook as
// uid 0 of its own namespace, which may see /run/remainroot but not write
// it). With neither it returns os.DevNull and why.
func openLogPath(dir, id string) (string, error) {
	name := "container.log"
	if id != "" {
		name = filepath.Base(id) + ".log"
	}
	return pickLogFile([]string{dir, filepath.Join(os.TempDir(), "remainroot-"+hostUID())}, name)
}

// hostUID names the hook's user as the host knows it: under rootless
// podman every user's hook is uid 0 of its own namespace, and a shared
// /tmp/remainroot-0 would belong to whichever came first.
func hostUID() string {
	uid := os.Geteuid()
	data, err := os.ReadFile("/proc/self/uid_map")
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			var in, out, n int
			if _, err := fmt.Sscan(line, &in, &out, &n); err == nil && uid >= in && uid < in+n {
				return strconv.Itoa(out + uid - in)
			}
		}
	}
	return strconv.Itoa(uid)
}
