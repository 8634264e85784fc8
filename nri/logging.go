package nri

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// logSink is where the plugin logs. A plugin that the runtime starts from
// its plugin_path has /dev/null for stderr and learns its configuration,
// log_file included, only when the runtime configures it: the sink starts
// on stderr and moves to the file then.
type logSink struct {
	mu   sync.Mutex
	w    io.Writer
	file *os.File
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// open sends the records to path (appended; created 0600, a regular file
// reached without following a symbolic link); "" keeps the sink as it is.
func (s *logSink) open(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("open the log file: %w", err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return fmt.Errorf("log file %s: not a regular file", path)
	}
	s.mu.Lock()
	old := s.file
	s.w, s.file = f, f
	s.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

// newLogger returns the plugin's logger on sink at level.
func newLogger(sink *logSink, level *slog.LevelVar) *slog.Logger {
	return slog.New(slog.NewTextHandler(sink, &slog.HandlerOptions{Level: level})).With("plugin", "remainroot-nri")
}
