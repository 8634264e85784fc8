package config

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
)

// FuzzFromAnnotations: whatever a container's annotations say, the hook's
// settings are a known mode and level, the log directory is the host's
// choice alone, and an error is one line.
func FuzzFromAnnotations(f *testing.F) {
	f.Add("creds", "debug", true, "io.remainroot.log-dir", "/etc", 1000, "", "/run/user/1000")
	f.Add("full", "", false, "", "", 0, "/var/log/rr", "")
	f.Add("1", "INFO", true, "io.remainroot.mode", "full", 0, "", "")
	f.Add("creds\n", "warn\x00", true, "a", "b", 1001, "", "")
	f.Fuzz(func(t *testing.T, mode, level string, haveLevel bool, key, val string, euid int, logDir, runtimeDir string) {
		ann := map[string]string{key: val, AnnotationMode: mode}
		if haveLevel {
			ann[AnnotationLogLevel] = level
		}
		e := env{euid: euid, logDir: logDir, runtimeDir: runtimeDir}
		s, err := fromAnnotations(ann, e)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error is not one line: %q", err)
			}
			return
		}
		if !slices.Contains(ModeNames(), ann[AnnotationMode]) {
			t.Errorf("mode %q accepted but not in ModeNames (the hook's annotation regex)", ann[AnnotationMode])
		}
		if s.Mode != ModeCreds && s.Mode != ModeFull {
			t.Errorf("mode %v", s.Mode)
		}
		switch s.LogLevel {
		case slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError:
		default:
			t.Errorf("log level %v", s.LogLevel)
		}
		if want := defaultLogDir(e); s.LogDir != want {
			t.Errorf("log dir %q, want the host's %q", s.LogDir, want)
		}
	})
}
