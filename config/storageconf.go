package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/BurntSushi/toml"
)

// storage.conf, the settings of podman's image store (containers/storage)
// that `remainroot doctor` checks: the driver, where the store is, and
// ignore_chown_errors, without which an image does not even unpack under a
// single-id mapping.

// StorageConfFile returns the one storage.conf podman reads ("" when there
// is none, so podman uses its defaults): $CONTAINERS_STORAGE_CONF when set;
// for rootless podman ~/.config/containers/storage.conf when it exists;
// else /etc/containers/storage.conf, else /usr/share/containers/storage.conf.
func (p ConfPlaces) StorageConfFile() string {
	if p.StorageConf != "" {
		return p.StorageConf
	}
	var cands []string
	if p.Rootless {
		cands = append(cands, filepath.Join(p.userConfigDir(), "storage.conf"))
	}
	cands = append(cands, p.sys("/etc/containers/storage.conf"), p.sys("/usr/share/containers/storage.conf"))
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return ""
}

// StorageConf is what doctor reads of storage.conf.
type StorageConf struct {
	File              string // "" when podman uses its defaults
	Driver            string // "" when unset: podman picks one
	DriverFrom        string // the file, or $STORAGE_DRIVER
	GraphRoot         string // the store, after podman's defaults
	IgnoreChownErrors bool
	IgnoreChownFrom   string // "[storage.options.vfs] ignore_chown_errors" or ""
	IgnoreChownRaw    string // the value as written
	IgnoreChownErr    error  // the value does not parse (podman refuses it too)
}

type storageConfFile struct {
	Storage struct {
		Driver              string `toml:"driver"`
		GraphRoot           string `toml:"graphroot"`
		RootlessStoragePath string `toml:"rootless_storage_path"`
		Options             struct {
			IgnoreChownErrors *string `toml:"ignore_chown_errors"`
			Overlay           struct {
				IgnoreChownErrors *string `toml:"ignore_chown_errors"`
			} `toml:"overlay"`
			Vfs struct {
				IgnoreChownErrors *string `toml:"ignore_chown_errors"`
			} `toml:"vfs"`
		} `toml:"options"`
	} `toml:"storage"`
}

// ReadStorageConf reads p.StorageConfFile() and applies podman's defaults
// and $STORAGE_DRIVER. ignore_chown_errors is the driver's own section's
// value when set, else [storage.options]'s (the store passes both to the
// driver, its own last).
func (p ConfPlaces) ReadStorageConf() (StorageConf, error) {
	s := StorageConf{File: p.StorageConfFile()}
	var f storageConfFile
	if s.File != "" {
		data, err := os.ReadFile(s.File)
		if errors.Is(err, fs.ErrNotExist) && p.StorageConf != "" {
			return s, fmt.Errorf("%s (%s): %w", s.File, EnvStorageConf, err)
		}
		if err != nil {
			return s, err
		}
		if _, err := toml.Decode(string(data), &f); err != nil {
			return s, fmt.Errorf("%s: %w", s.File, err)
		}
	}
	st := f.Storage
	if st.Driver != "" {
		s.Driver, s.DriverFrom = st.Driver, s.File
	}
	if p.StorageDriver != "" {
		s.Driver, s.DriverFrom = p.StorageDriver, "$"+EnvStorageDriver
	}
	if s.Driver == "overlay2" {
		s.Driver = "overlay"
	}

	// The store: /var/lib/containers/storage for root; for rootless
	// $XDG_DATA_HOME/containers/storage, or rootless_storage_path;
	// graphroot wins for both.
	s.GraphRoot = "/var/lib/containers/storage"
	if p.Rootless {
		data := p.XDGDataHome
		if data == "" {
			data = filepath.Join(p.Home, ".local", "share")
		}
		s.GraphRoot = filepath.Join(data, "containers", "storage")
		if st.RootlessStoragePath != "" {
			s.GraphRoot = expandStoragePath(st.RootlessStoragePath, p.Home)
		}
	}
	if st.GraphRoot != "" {
		s.GraphRoot = expandStoragePath(st.GraphRoot, p.Home)
	}

	type source struct {
		v    *string
		name string
	}
	sources := []source{{st.Options.IgnoreChownErrors, "[storage.options]"}}
	switch s.Driver {
	case "vfs":
		sources = append(sources, source{st.Options.Vfs.IgnoreChownErrors, "[storage.options.vfs]"})
	case "overlay":
		sources = append(sources, source{st.Options.Overlay.IgnoreChownErrors, "[storage.options.overlay]"})
	case "":
		// podman picks the driver: count only a setting that holds
		// for either.
	}
	for _, src := range sources {
		if src.v == nil {
			continue
		}
		s.IgnoreChownRaw, s.IgnoreChownFrom = *src.v, src.name+" ignore_chown_errors"
		b, err := strconv.ParseBool(*src.v)
		s.IgnoreChownErrors, s.IgnoreChownErr = b, nil
		if err != nil {
			s.IgnoreChownErrors, s.IgnoreChownErr = false, fmt.Errorf("%s ignore_chown_errors = %q is not a boolean", src.name, *src.v)
		}
	}
	if s.Driver == "" && st.Options.Vfs.IgnoreChownErrors != nil && st.Options.Overlay.IgnoreChownErrors != nil && s.IgnoreChownFrom == "" {
		v, o := *st.Options.Vfs.IgnoreChownErrors, *st.Options.Overlay.IgnoreChownErrors
		bv, ev := strconv.ParseBool(v)
		bo, eo := strconv.ParseBool(o)
		if ev == nil && eo == nil && bv == bo {
			s.IgnoreChownErrors, s.IgnoreChownRaw = bv, v
			s.IgnoreChownFrom = "[storage.options.vfs] and [storage.options.overlay] ignore_chown_errors"
		}
	}
	return s, nil
}

// expandStoragePath expands $HOME and a leading ~ as containers/storage does
// for graphroot and rootless_storage_path ($HOME, $UID).
func expandStoragePath(path, home string) string {
	if len(path) >= 2 && path[:2] == "~/" {
		path = filepath.Join(home, path[2:])
	}
	return os.Expand(path, func(k string) string {
		switch k {
		case "HOME":
			return home
		case "UID":
			return strconv.Itoa(os.Getuid())
		}
		return "$" + k
	})
}
