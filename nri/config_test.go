package nri

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, doc string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		path    string
		env     string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "file with every key", path: write("all.toml", `hook_path = "/opt/rr"
hook = "always"
exec = false
host_sys = false
init_timeout = "30s"
ready_timeout = "1s"
log_level = "debug"
`), check: func(t *testing.T, c Config) {
			want := Config{HookPath: "/opt/rr", Hook: HookAlways, InitTimeout: 30 * time.Second, ReadyTimeout: time.Second, LogLevel: "debug"}
			if c != want {
				t.Errorf("config %+v, want %+v", c, want)
			}
		}},
		{name: "keys left out keep their defaults", path: write("some.toml", "exec = false\n"), check: func(t *testing.T, c Config) {
			want := DefaultConfig()
			want.Exec = false
			if c != want {
				t.Errorf("config %+v, want %+v", c, want)
			}
		}},
		{name: "file from the environment", env: write("env.toml", "hook = \"never\"\n"), check: func(t *testing.T, c Config) {
			if c.Hook != HookNever {
				t.Errorf("hook %q: $%s not read", c.Hook, EnvConfig)
			}
		}},
		{name: "unknown key", path: write("typo.toml", "exce = true\n"), wantErr: "unknown keys"},
		{name: "bad hook", path: write("hook.toml", "hook = \"twice\"\n"), wantErr: "hook"},
		{name: "bad level", path: write("level.toml", "log_level = \"loud\"\n"), wantErr: "log_level"},
		{name: "missing named file", path: filepath.Join(dir, "none.toml"), wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvConfig, tt.env)
			c, err := LoadConfig(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
