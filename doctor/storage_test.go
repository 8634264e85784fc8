package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/remainroot/remainroot/config"
)

func TestStorageCheck(t *testing.T) {
	base := config.StorageConf{File: "/home/u/.config/containers/storage.conf", Driver: "vfs", GraphRoot: "/home/u/.local/share/containers/storage"}
	set := base
	set.IgnoreChownErrors, set.IgnoreChownRaw, set.IgnoreChownFrom = true, "true", "[storage.options.vfs] ignore_chown_errors"
	off := base
	off.IgnoreChownRaw, off.IgnoreChownFrom = "false", "[storage.options.vfs] ignore_chown_errors"
	tests := []struct {
		name   string
		s      config.StorageConf
		single bool
		status Status
		want   string
	}{
		{"set", set, true, OK, "images unpack"},
		{"unset, single", base, true, Fail, "ignore_chown_errors not set"},
		{"false, single", off, true, Fail, `ignore_chown_errors = "false"`},
		{"unset, ranges", base, false, OK, "not needed"},
	}
	for _, tt := range tests {
		c := storageCheck(Options{}, tt.s, nil, tt.single)
		if c.Status != tt.status || !strings.Contains(c.Message, tt.want) || !strings.Contains(c.Message, base.File) {
			t.Errorf("%s: %s %q, want %s with %q and the file", tt.name, c.Status, c.Message, tt.status, tt.want)
		}
		if c.Status == Fail && !strings.Contains(c.Remedy, "ignore_chown_errors") {
			t.Errorf("%s: remedy %q", tt.name, c.Remedy)
		}
	}
}

func TestUserXattrCheck(t *testing.T) {
	dir := t.TempDir()
	c := UserXattrCheck("graphroot", filepath.Join(dir, "not", "yet"))
	// The temporary directory (tmpfs or a disk filesystem here) takes
	// user xattrs; the probe leaves nothing behind.
	if c.Status != OK || !strings.Contains(c.Message, "tested in "+dir) {
		t.Errorf("%+v", c)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left %v in %s", ents, dir)
	}
	// /proc takes no user xattrs.
	if c := UserXattrCheck("graphroot", "/proc/self"); c.Status == OK {
		t.Errorf("/proc: %+v", c)
	}
}
