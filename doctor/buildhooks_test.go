package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/remainroot/remainroot/config"
	"github.com/remainroot/remainroot/hook"
)

func TestBuildHooksDirs(t *testing.T) {
	for self, want := range map[string]string{
		"/nonexistent/usr/bin/remainroot":       "/nonexistent/usr/share/remainroot/build-hooks",
		"/nonexistent/usr/local/bin/remainroot": "/nonexistent/usr/local/share/remainroot/build-hooks",
	} {
		got := config.BuildHooksDirs(self)
		if got["creds"] != want+".d" || got["full"] != want+"-full.d" {
			t.Errorf("%s: %v, want %s.d and %s-full.d", self, got, want, want)
		}
	}
}

// TestBuildHooksCheck reads what `hooks-json --build` writes, as buildah does.
func TestBuildHooksCheck(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if c := buildHooksCheck("b", dir); c.Status != Warn || !strings.Contains(c.Message, config.BuildFileName) {
		t.Errorf("absent: %+v", c)
	}
	doc, err := hook.BuildHooksJSON(exe, config.ModeFull)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, config.BuildFileName), doc, 0o644)
	if c := buildHooksCheck("b", dir); c.Status != OK || !strings.Contains(c.Message, "--hooks-dir "+dir) || !strings.Contains(c.Message, "--mode full") {
		t.Errorf("installed: %+v", c)
	}
	// A precreate document there fails builds (buildah knows no extension stages).
	pre, _ := hook.PrecreateHooksJSON(exe)
	os.WriteFile(filepath.Join(dir, config.BuildFileName), pre, 0o644)
	if c := buildHooksCheck("b", dir); c.Status != Fail {
		t.Errorf("precreate in a build dir: %+v", c)
	}
}
