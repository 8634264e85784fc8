package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/remainroot/remainroot/config"
	"github.com/remainroot/remainroot/hook"
)

// TestHooksDirCheck reads real hooks directories the way podman does.
func TestHooksDirCheck(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := hook.HooksJSON(exe)
	if err != nil {
		t.Fatal(err)
	}
	good := t.TempDir()
	os.WriteFile(filepath.Join(good, config.HooksFileName), doc, 0o644)
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "README"), []byte("not a hook"), 0o644)
	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "other.json"), []byte("{"), 0o644)
	missingBin := t.TempDir()
	noBin, _ := hook.HooksJSON(filepath.Join(missingBin, "no-such-remainroot"))
	os.WriteFile(filepath.Join(missingBin, config.HooksFileName), noBin, 0o644)

	tests := []struct {
		name   string
		dirs   []string
		status Status
		want   []string
	}{
		{"installed", []string{empty, good}, OK, []string{filepath.Join(good, config.HooksFileName), "runs " + exe}},
		{"absent", []string{empty, "/nonexistent-hooks.d"}, Fail, []string{"no remainroot.json", empty, "/nonexistent-hooks.d does not exist"}},
		{"malformed neighbour", []string{good, broken}, Fail, []string{filepath.Join(broken, "other.json")}},
		{"binary missing", []string{missingBin}, Fail, []string{"podman skips the hook"}},
		{"later directory wins", []string{good, missingBin}, Fail, []string{"podman skips the hook"}},
		{"none", []string{}, Fail, []string{"is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := config.ContainersConf{HooksDirs: tt.dirs, HooksDirsFrom: "test.conf"}
			c := hooksDirCheck(Options{Self: exe}, conf, nil)
			if c.Status != tt.status {
				t.Errorf("status %s, want %s: %s", c.Status, tt.status, c.Message)
			}
			for _, w := range tt.want {
				if !strings.Contains(c.Message, w) {
					t.Errorf("message %q lacks %q", c.Message, w)
				}
			}
		})
	}
	// --hooks-dir replaces containers.conf's list.
	c := hooksDirCheck(Options{Self: exe, HooksDirs: []string{good}}, config.ContainersConf{HooksDirs: []string{empty}}, nil)
	if c.Status != OK || !strings.Contains(c.Message, "--hooks-dir") {
		t.Errorf("--hooks-dir: %+v", c)
	}
}

func TestPrecreateCheck(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	main, pre := t.TempDir(), t.TempDir()
	doc, _ := hook.HooksJSON(exe)
	os.WriteFile(filepath.Join(main, config.HooksFileName), doc, 0o644)
	if c := precreateCheck(Options{}, config.ContainersConf{HooksDirs: []string{main, pre}}, nil); c.Status != Warn {
		t.Errorf("absent: %+v", c)
	}
	p, _ := hook.PrecreateHooksJSON(exe)
	os.WriteFile(filepath.Join(pre, config.PrecreateFileName), p, 0o644)
	conf := config.ContainersConf{HooksDirs: []string{main, pre}}
	if c := precreateCheck(Options{}, conf, nil); c.Status != OK {
		t.Errorf("installed: %+v", c)
	}
	// podman's extension stages make the precreate document valid beside remainroot.json.
	if c := hooksDirCheck(Options{Self: exe}, conf, nil); c.Status != OK {
		t.Errorf("hooks_dir with the precreate directory: %+v", c)
	}
}
