package config

import (
	"log/slog"
	"strings"
	"testing"
)

func TestParseMode(t *testing.T) {
	tests := []struct {
		in      string
		want    Mode
		wantErr bool
	}{
		{in: "creds", want: ModeCreds},
		{in: "full", want: ModeFull},
		{in: "true", want: ModeCreds},
		{in: "1", want: ModeCreds},
		{in: "", wantErr: true},
		{in: "Creds", wantErr: true},
		{in: "FULL", wantErr: true},
		{in: "True", wantErr: true},
		{in: "yes", wantErr: true},
		{in: "0", wantErr: true},
		{in: "false", wantErr: true},
		{in: " creds", wantErr: true},
		{in: "credsx", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMode(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseMode(%q) = %v, want an error", tt.in, got)
				}
				msg := err.Error()
				for _, want := range []string{`"` + tt.in + `"`, "creds", "full", "true", "1"} {
					if !strings.Contains(msg, want) {
						t.Errorf("error %q does not mention %s", msg, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMode(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseMode(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestModeString(t *testing.T) {
	tests := []struct {
		m    Mode
		want string
	}{
		{ModeCreds, "creds"},
		{ModeFull, "full"},
		{Mode(7), "Mode(7)"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("Mode(%d).String() = %q, want %q", int(tt.m), got, tt.want)
		}
		if tt.m == ModeCreds || tt.m == ModeFull {
			back, err := ParseMode(tt.want)
			if err != nil || back != tt.m {
				t.Errorf("ParseMode(%q) = %v, %v; want %v", tt.want, back, err, tt.m)
			}
		}
	}
}

func TestParseLogLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{in: "debug", want: slog.LevelDebug},
		{in: "info", want: slog.LevelInfo},
		{in: "warn", want: slog.LevelWarn},
		{in: "error", want: slog.LevelError},
		{in: "", wantErr: true},
		{in: "warning", wantErr: true},
		{in: "DEBUG", wantErr: true},
		{in: "trace", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLogLevel(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseLogLevel(%q) = %v, want an error", tt.in, got)
				}
				if !strings.Contains(err.Error(), `"`+tt.in+`"`) {
					t.Errorf("error %q does not name the value", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseLogLevel(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestDefaultLogDir(t *testing.T) {
	tests := []struct {
		name string
		e    env
		want string
	}{
		{"root", env{euid: 0}, "/run/remainroot"},
		{"root ignores XDG_RUNTIME_DIR", env{euid: 0, runtimeDir: "/run/user/0"}, "/run/remainroot"},
		{"user with XDG_RUNTIME_DIR", env{euid: 1000, runtimeDir: "/run/user/1000"}, "/run/user/1000/remainroot"},
		{"user without XDG_RUNTIME_DIR", env{euid: 1000}, "/tmp/remainroot-1000"},
		{"override as root", env{euid: 0, logDir: "/var/log/rr"}, "/var/log/rr"},
		{"override as user", env{euid: 1000, runtimeDir: "/run/user/1000", logDir: "/srv/rr"}, "/srv/rr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := defaultLogDir(tt.e); got != tt.want {
				t.Errorf("defaultLogDir(%+v) = %q, want %q", tt.e, got, tt.want)
			}
		})
	}
}

// TestDefaultLogDirProcess checks the exported function reads the real
// environment.
func TestDefaultLogDirProcess(t *testing.T) {
	t.Setenv(EnvLogDir, "/somewhere/else")
	if got := DefaultLogDir(); got != "/somewhere/else" {
		t.Errorf("DefaultLogDir() with %s set = %q", EnvLogDir, got)
	}
	t.Setenv(EnvLogDir, "")
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/4242")
	want := currentEnv()
	if got := DefaultLogDir(); got != defaultLogDir(want) {
		t.Errorf("DefaultLogDir() = %q, want %q", got, defaultLogDir(want))
	}
}

func TestFromAnnotations(t *testing.T) {
	rootEnv := env{euid: 0}
	tests := []struct {
		name    string
		ann     map[string]string
		e       env
		want    HookSettings
		wantErr string // substring of the error; empty means no error
	}{
		{
			name: "creds with defaults",
			ann:  map[string]string{AnnotationMode: "creds"},
			e:    rootEnv,
			want: HookSettings{Mode: ModeCreds, LogLevel: slog.LevelInfo, LogDir: "/run/remainroot"},
		},
		{
			name: "true means creds",
			ann:  map[string]string{AnnotationMode: "true"},
			e:    rootEnv,
			want: HookSettings{Mode: ModeCreds, LogLevel: slog.LevelInfo, LogDir: "/run/remainroot"},
		},
		{
			name: "full with everything set",
			ann: map[string]string{
				AnnotationMode:               "full",
				AnnotationLogLevel:           "debug",
				"io.remainroot.log-dir":      "/var/log/remainroot/", // ignored: the host chooses
				"io.podman.annotations.init": "FALSE",
			},
			e:    rootEnv,
			want: HookSettings{Mode: ModeFull, LogLevel: slog.LevelDebug, LogDir: "/run/remainroot"},
		},
		{
			name: "env overrides default dir",
			ann:  map[string]string{AnnotationMode: "1", AnnotationLogLevel: "warn"},
			e:    env{euid: 0, logDir: "/tmp/x"},
			want: HookSettings{Mode: ModeCreds, LogLevel: slog.LevelWarn, LogDir: "/tmp/x"},
		},
		{
			name: "a log-dir annotation does not beat env",
			ann:  map[string]string{AnnotationMode: "creds", "io.remainroot.log-dir": "/a"},
			e:    env{euid: 0, logDir: "/tmp/x"},
			want: HookSettings{Mode: ModeCreds, LogLevel: slog.LevelInfo, LogDir: "/tmp/x"},
		},
		{
			name: "unprivileged default",
			ann:  map[string]string{AnnotationMode: "creds", AnnotationLogLevel: "error"},
			e:    env{euid: 1000, runtimeDir: "/run/user/1000"},
			want: HookSettings{Mode: ModeCreds, LogLevel: slog.LevelError, LogDir: "/run/user/1000/remainroot"},
		},
		{name: "nil map", ann: nil, e: rootEnv, wantErr: "annotation io.remainroot.mode is missing"},
		{name: "mode absent", ann: map[string]string{"io.remainroot.modeX": "creds"}, e: rootEnv, wantErr: "is missing"},
		{name: "bad mode", ann: map[string]string{AnnotationMode: "yes"}, e: rootEnv, wantErr: `invalid mode "yes"`},
		{name: "empty mode", ann: map[string]string{AnnotationMode: ""}, e: rootEnv, wantErr: `invalid mode ""`},
		{
			name:    "bad level",
			ann:     map[string]string{AnnotationMode: "creds", AnnotationLogLevel: "verbose"},
			e:       rootEnv,
			wantErr: `annotation io.remainroot.log-level: invalid log level "verbose"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fromAnnotations(tt.ann, tt.e)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("got %+v, want an error containing %q", got, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestFromAnnotationsProcess exercises the exported entry point with the
// process environment.
func TestFromAnnotationsProcess(t *testing.T) {
	t.Setenv(EnvLogDir, "/from/env")
	got, err := FromAnnotations(map[string]string{AnnotationMode: "full"})
	if err != nil {
		t.Fatal(err)
	}
	want := HookSettings{Mode: ModeFull, LogLevel: slog.LevelInfo, LogDir: "/from/env"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestModeNames(t *testing.T) {
	names := ModeNames()
	if len(names) != 4 {
		t.Fatalf("ModeNames() = %q, want 4 names", names)
	}
	for _, n := range names {
		if _, err := ParseMode(n); err != nil {
			t.Errorf("ModeNames() lists %q but ParseMode rejects it: %v", n, err)
		}
	}
	names[0] = "mutated"
	if ModeNames()[0] != "creds" {
		t.Error("ModeNames returns its internal slice")
	}
}
