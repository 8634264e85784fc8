package nri

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/BurntSushi/toml"
)

// EnvConfig names the environment variable with the plugin's config file:
// a plugin that containerd starts from its plugin_path gets no arguments.
const EnvConfig = "REMAINROOT_NRI_CONFIG"

// DefaultConfigFile is read when neither --config nor $REMAINROOT_NRI_CONFIG
// names a file, if it exists.
const DefaultConfigFile = "/etc/remainroot/nri.toml"

// Hook placements (Config.Hook).
const (
	// HookAuto adds the createRuntime hook unless the runtime reads
	// hooks.d itself (CRI-O): the hook must not run twice.
	HookAuto = "auto"
	// HookAlways adds it whatever the runtime.
	HookAlways = "always"
	// HookNever never adds it.
	HookNever = "never"
)

// Config is the plugin's configuration (TOML; every key optional).
type Config struct {
	// HookPath is the remainroot binary the createRuntime hook runs, as
	// the runtime sees it (default: this executable).
	HookPath string `toml:"hook_path"`
	// Hook is where the createRuntime hook is added: auto, always, never.
	Hook string `toml:"hook"`
	// Exec gives exec'd processes the emulation too (seccomp listener and
	// supervisor); without it only the init's tree is emulated (hook).
	Exec bool `toml:"exec"`
	// HostSys binds the host's /sys read-only into host-network pods in
	// place of a sysfs mount their user namespace cannot make.
	HostSys bool `toml:"host_sys"`
	// InitTimeout bounds a supervisor's wait for the runtime's connection
	// for the init; 0 waits until the container stops or is removed.
	InitTimeout time.Duration `toml:"init_timeout"`
	// ReadyTimeout bounds the wait for a supervisor to listen: it is part
	// of the answer to CreateContainer, which the runtime waits for 2 s
	// by default.
	ReadyTimeout time.Duration `toml:"ready_timeout"`
	// LogLevel is the plugin's log level: debug, info, warn, error.
	LogLevel string `toml:"log_level"`
	// LogFile receives the plugin's log (default: stderr, which a plugin
	// the runtime starts has on /dev/null).
	LogFile string `toml:"log_file"`
	// LogDir is the containers' log directory (REMAINROOT_LOG_DIR of the
	// supervisors and the hook; default: remainroot's, /run/remainroot
	// for root). A plugin the runtime starts gets an empty environment.
	LogDir string `toml:"log_dir"`
}

// DefaultConfig is the configuration of a plugin without a config file.
func DefaultConfig() Config {
	return Config{Hook: HookAuto, Exec: true, HostSys: true, ReadyTimeout: 1500 * time.Millisecond, LogLevel: "info"}
}

// LoadConfig reads the config file path, else the file $REMAINROOT_NRI_CONFIG
// names, else DefaultConfigFile if it exists; keys a file leaves out keep
// their defaults.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	optional := false
	if path == "" {
		path = os.Getenv(EnvConfig)
	}
	if path == "" {
		path, optional = DefaultConfigFile, true
	}
	data, err := os.ReadFile(path)
	if optional && errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("read the plugin's config: %w", err)
	}
	if err := cfg.merge(string(data)); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// merge decodes a TOML document over c and checks the result.
func (c *Config) merge(doc string) error {
	md, err := toml.Decode(doc, c)
	if err != nil {
		return fmt.Errorf("invalid TOML: %w", err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		return fmt.Errorf("unknown keys %v", u)
	}
	return c.check()
}

func (c *Config) check() error {
	switch c.Hook {
	case HookAuto, HookAlways, HookNever:
	default:
		return fmt.Errorf("hook = %q: want %s, %s or %s", c.Hook, HookAuto, HookAlways, HookNever)
	}
	if c.InitTimeout < 0 || c.ReadyTimeout <= 0 {
		return errors.New("init_timeout must be >= 0 and ready_timeout > 0")
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return fmt.Errorf("log_level = %q: %w", c.LogLevel, err)
	}
	return nil
}

// Level is the plugin's log level.
func (c Config) Level() slog.Level {
	var l slog.Level
	if l.UnmarshalText([]byte(c.LogLevel)) != nil {
		return slog.LevelInfo
	}
	return l
}
