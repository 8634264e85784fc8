// Package config parses remainroot's settings: the emulation mode, the log
// level and the log directory, as they arrive in OCI annotations, on the
// command line or in the environment. It also reads the configuration of
// podman that `remainroot doctor` checks (containers.conf, storage.conf)
// and names the hooks.d documents remainroot puts in podman's directories.
package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Annotation keys read by the OCI hook.
const (
	// AnnotationMode selects the emulation mode; its presence triggers the hook.
	AnnotationMode = "io.remainroot.mode"
	// AnnotationLogLevel sets the tracer's log level (debug, info, warn, error).
	AnnotationLogLevel = "io.remainroot.log-level"
)

// EnvLogDir names the environment variable that overrides DefaultLogDir.
const EnvLogDir = "REMAINROOT_LOG_DIR"

// Mode is what remainroot emulates.
type Mode int

const (
	// ModeCreds emulates credential syscalls (set*id, setgroups, capabilities).
	ModeCreds Mode = iota
	// ModeFull emulates credentials and file ownership.
	ModeFull
)

// modeNames lists the spellings ParseMode accepts, canonical names first.
var modeNames = []string{"creds", "full", "true", "1"}

// ModeNames returns every spelling ParseMode accepts, canonical names first.
// The hook's annotation regex is built from it.
func ModeNames() []string {
	return append([]string(nil), modeNames...)
}

// String returns the canonical name of the mode.
func (m Mode) String() string {
	switch m {
	case ModeCreds:
		return "creds"
	case ModeFull:
		return "full"
	default:
		return "Mode(" + strconv.Itoa(int(m)) + ")"
	}
}

// ParseMode parses a mode name. It accepts "creds" and "full"; "true" and
// "1" are synonyms of "creds". Matching is case-sensitive, as in the hook's
// annotation regex.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "creds", "true", "1":
		return ModeCreds, nil
	case "full":
		return ModeFull, nil
	default:
		return 0, fmt.Errorf("invalid mode %q: accepted values are %s", s, strings.Join(modeNames, ", "))
	}
}

// ParseLogLevel parses one of debug, info, warn or error.
func ParseLogLevel(s string) (slog.Level, error) {
	switch s {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	default:
		return 0, fmt.Errorf("invalid log level %q: accepted values are debug, info, warn, error", s)
	}
}

// HookSettings are the settings of one hook invocation.
type HookSettings struct {
	Mode     Mode
	LogLevel slog.Level
	LogDir   string
}

// FromAnnotations reads the hook's settings from a container's annotations.
// The mode annotation is required: the hook is only triggered when it is
// present. The log level defaults to info and the log directory to
// DefaultLogDir.
func FromAnnotations(ann map[string]string) (HookSettings, error) {
	return fromAnnotations(ann, currentEnv())
}

// DefaultLogDir returns the log directory used when no annotation names one:
// the value of $REMAINROOT_LOG_DIR when set; otherwise /run/remainroot when
// the effective uid is 0; otherwise $XDG_RUNTIME_DIR/remainroot when
// XDG_RUNTIME_DIR is set; otherwise /tmp/remainroot-<uid>.
//
// Under rootless podman the hook runs as uid 0 of podman's user namespace,
// so it picks /run/remainroot (which podman's mount namespace does not
// expose to other users) unless the environment says otherwise.
func DefaultLogDir() string {
	return defaultLogDir(currentEnv())
}

// env is the part of the process environment the defaults depend on.
type env struct {
	euid       int
	logDir     string // $REMAINROOT_LOG_DIR
	runtimeDir string // $XDG_RUNTIME_DIR
}

func currentEnv() env {
	return env{
		euid:       os.Geteuid(),
		logDir:     os.Getenv(EnvLogDir),
		runtimeDir: os.Getenv("XDG_RUNTIME_DIR"),
	}
}

func defaultLogDir(e env) string {
	switch {
	case e.logDir != "":
		return e.logDir
	case e.euid == 0:
		return "/run/remainroot"
	case e.runtimeDir != "":
		return filepath.Join(e.runtimeDir, "remainroot")
	default:
		return "/tmp/remainroot-" + strconv.Itoa(e.euid)
	}
}

func fromAnnotations(ann map[string]string, e env) (HookSettings, error) {
	var s HookSettings
	m, ok := ann[AnnotationMode]
	if !ok {
		return s, fmt.Errorf("annotation %s is missing: the hook was run without it", AnnotationMode)
	}
	mode, err := ParseMode(m)
	if err != nil {
		return s, fmt.Errorf("annotation %s: %w", AnnotationMode, err)
	}
	s.Mode = mode

	s.LogLevel = slog.LevelInfo
	if l, ok := ann[AnnotationLogLevel]; ok {
		lvl, err := ParseLogLevel(l)
		if err != nil {
			return s, fmt.Errorf("annotation %s: %w", AnnotationLogLevel, err)
		}
		s.LogLevel = lvl
	}

	// The log directory is the host's choice (REMAINROOT_LOG_DIR in the
	// hook's environment), never the container's: an annotation comes from
	// whoever writes the pod or container spec, and the tracer may run as
	// host root.
	s.LogDir = defaultLogDir(e)
	return s, nil
}
