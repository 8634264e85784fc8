package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// containers.conf, the settings of podman (containers/common) that
// `remainroot doctor` checks: where podman looks for hooks, which runtime
// it uses, how rootless containers get a network.

// DefaultHooksDirs is podman's hooks_dir when containers.conf sets none.
var DefaultHooksDirs = []string{"/usr/share/containers/oci/hooks.d"}

// Environment variables podman honours for its configuration files.
const (
	EnvContainersConf         = "CONTAINERS_CONF"          // the only containers.conf to read
	EnvContainersConfOverride = "CONTAINERS_CONF_OVERRIDE" // read last, on top of the others
	EnvStorageConf            = "CONTAINERS_STORAGE_CONF"  // the storage.conf to read
	EnvStorageDriver          = "STORAGE_DRIVER"           // overrides storage.conf's driver
)

// ConfPlaces is where the containers' configuration files are looked for.
type ConfPlaces struct {
	Rootless       bool   // podman reads per-user files only when rootless
	Home           string // $HOME
	XDGConfigHome  string // $XDG_CONFIG_HOME, empty for $HOME/.config
	XDGDataHome    string // $XDG_DATA_HOME, empty for $HOME/.local/share
	ContainersConf string // $CONTAINERS_CONF or a flag
	ConfOverride   string // $CONTAINERS_CONF_OVERRIDE
	StorageConf    string // $CONTAINERS_STORAGE_CONF or a flag
	StorageDriver  string // $STORAGE_DRIVER
	Root           string // prefix for the system paths (tests); empty for /
}

// PlacesFromEnv fills ConfPlaces from the environment, as podman does.
func PlacesFromEnv(rootless bool) ConfPlaces {
	home, _ := os.UserHomeDir()
	return ConfPlaces{
		Rootless:       rootless,
		Home:           home,
		XDGConfigHome:  os.Getenv("XDG_CONFIG_HOME"),
		XDGDataHome:    os.Getenv("XDG_DATA_HOME"),
		ContainersConf: os.Getenv(EnvContainersConf),
		ConfOverride:   os.Getenv(EnvContainersConfOverride),
		StorageConf:    os.Getenv(EnvStorageConf),
		StorageDriver:  os.Getenv(EnvStorageDriver),
	}
}

func (p ConfPlaces) sys(path string) string { return filepath.Join("/", p.Root, path) }

// userConfigDir is $XDG_CONFIG_HOME/containers, default ~/.config/containers.
func (p ConfPlaces) userConfigDir() string {
	base := p.XDGConfigHome
	if base == "" {
		base = filepath.Join(p.Home, ".config")
	}
	return filepath.Join(base, "containers")
}

// ContainersConfFiles lists the containers.conf files podman 4 and 5 read,
// in order (later ones override earlier ones), among those that exist:
// $CONTAINERS_CONF alone when set, else /usr/share/containers/containers.conf,
// /etc/containers/containers.conf, and for rootless podman
// ~/.config/containers/containers.conf, each followed by the *.conf files of
// its .d directory; $CONTAINERS_CONF_OVERRIDE last.
func (p ConfPlaces) ContainersConfFiles() []string {
	var files []string
	if p.ContainersConf != "" {
		files = append(files, p.ContainersConf)
	} else {
		mains := []string{p.sys("/usr/share/containers/containers.conf"), p.sys("/etc/containers/containers.conf")}
		if p.Rootless {
			mains = append(mains, filepath.Join(p.userConfigDir(), "containers.conf"))
		}
		for _, m := range mains {
			if _, err := os.Stat(m); err == nil {
				files = append(files, m)
			}
			files = append(files, dropIns(m+".d")...)
		}
	}
	if p.ConfOverride != "" {
		files = append(files, p.ConfOverride)
	}
	return files
}

// dropIns lists dir/*.conf, sorted.
func dropIns(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".conf") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

// ContainersConf is what doctor reads of containers.conf. A field's source
// is the file that set it last; empty when it has the default value.
type ContainersConf struct {
	HooksDirs       []string
	HooksDirsFrom   string
	Runtime         string // [engine] runtime; empty: podman's default
	RuntimeFrom     string
	RuntimePaths    map[string][]string // [engine.runtimes]
	RootlessNetCmd  string              // [network] default_rootless_network_cmd
	RootlessNetFrom string
	Files           []string // the files read
}

// containersConfFile is one file's relevant content; nil fields are unset.
type containersConfFile struct {
	Engine struct {
		HooksDir []any               `toml:"hooks_dir"`
		Runtime  *string             `toml:"runtime"`
		Runtimes map[string][]string `toml:"runtimes"`
	} `toml:"engine"`
	Network struct {
		RootlessNetCmd *string `toml:"default_rootless_network_cmd"`
	} `toml:"network"`
}

// ReadContainersConf reads files in order and merges what doctor needs as
// podman does: a later file's setting replaces an earlier one, and an array
// ending in {append=true} extends it. A missing file is an error only when
// it was named explicitly (the first, for $CONTAINERS_CONF).
func ReadContainersConf(files []string) (ContainersConf, error) {
	c := ContainersConf{HooksDirs: DefaultHooksDirs, RuntimePaths: map[string][]string{}}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			return c, fmt.Errorf("%s: %w", file, err)
		}
		if err != nil {
			return c, err
		}
		var f containersConfFile
		md, err := toml.Decode(string(data), &f)
		if err != nil {
			return c, fmt.Errorf("%s: %w", file, err)
		}
		c.Files = append(c.Files, file)
		if md.IsDefined("engine", "hooks_dir") {
			dirs, appendTo, err := parseTOMLSlice(f.Engine.HooksDir)
			if err != nil {
				return c, fmt.Errorf("%s: hooks_dir: %w", file, err)
			}
			if appendTo {
				dirs = append(append([]string(nil), c.HooksDirs...), dirs...)
			}
			c.HooksDirs, c.HooksDirsFrom = dirs, file
		}
		if f.Engine.Runtime != nil {
			c.Runtime, c.RuntimeFrom = *f.Engine.Runtime, file
		}
		for name, paths := range f.Engine.Runtimes {
			c.RuntimePaths[name] = paths
		}
		if f.Network.RootlessNetCmd != nil {
			c.RootlessNetCmd, c.RootlessNetFrom = *f.Network.RootlessNetCmd, file
		}
	}
	return c, nil
}

// parseTOMLSlice reads a containers.conf string array, whose last element
// may be the table {append=true}.
func parseTOMLSlice(v []any) (values []string, appendTo bool, err error) {
	for i, e := range v {
		switch e := e.(type) {
		case string:
			values = append(values, e)
		case map[string]any:
			a, ok := e["append"].(bool)
			if !ok || len(e) != 1 || i != len(v)-1 {
				return nil, false, fmt.Errorf("unexpected table %v (only a final {append=true} is allowed)", e)
			}
			appendTo = a
		default:
			return nil, false, fmt.Errorf("unexpected element %v", e)
		}
	}
	if values == nil {
		values = []string{}
	}
	return values, appendTo, nil
}
