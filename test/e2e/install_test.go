package e2e

// `make install` installs the binary and the hooks.d document that points
// at it.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

func TestMakeInstall(t *testing.T) {
	_, err := exec.LookPath("make")
	testenv.Need(t, err == nil, "make not found in PATH")
	_, err = exec.LookPath("go")
	testenv.Need(t, err == nil, "go not found in PATH")
	record(t, "make install", "binary + hooks.d/remainroot.json", true)

	dest := t.TempDir()
	cmd := exec.Command("make", "install", "DESTDIR="+dest, "PREFIX=/usr")
	cmd.Dir = testenv.ModuleRoot(t)
	r := run(t, cmd, 5*time.Minute)
	if r.code != 0 {
		t.Fatalf("make install failed\n%s", r)
	}

	bin := filepath.Join(dest, "usr", "bin", "remainroot")
	st, err := os.Stat(bin)
	if err != nil {
		t.Fatalf("make install did not install the binary: %v\n%s", err, r)
	}
	if st.Mode().Perm()&0o111 == 0 {
		t.Errorf("%s is not executable: %v", bin, st.Mode())
	}
	if out, err := exec.Command(bin, "version").CombinedOutput(); err != nil {
		t.Errorf("%s version: %v\n%s", bin, err, out)
	}

	doc := filepath.Join(dest, "usr", "share", "containers", "oci", "hooks.d", "remainroot.json")
	data, err := os.ReadFile(doc)
	if err != nil {
		t.Fatalf("make install DESTDIR=... PREFIX=/usr did not write %s: %v\n%s", doc, err, r)
	}
	var h struct {
		Version string `json:"version"`
		Hook    struct {
			Path string   `json:"path"`
			Args []string `json:"args"`
		} `json:"hook"`
		When struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"when"`
		Stages []string `json:"stages"`
	}
	if err := json.Unmarshal(data, &h); err != nil {
		t.Fatalf("%s is not valid JSON (a malformed hooks.d file breaks every podman run): %v\n%s", doc, err, data)
	}
	if h.Version != "1.0.0" {
		t.Errorf("version %q, want 1.0.0", h.Version)
	}
	if h.Hook.Path != "/usr/bin/remainroot" {
		t.Errorf("hook.path %q, want /usr/bin/remainroot (the installed path, without DESTDIR)", h.Hook.Path)
	}
	if len(h.Hook.Args) != 2 || h.Hook.Args[0] != "remainroot" || h.Hook.Args[1] != "hook" {
		t.Errorf("hook.args %q, want [remainroot hook]", h.Hook.Args)
	}
	if len(h.Stages) != 1 || h.Stages[0] != "createRuntime" {
		t.Errorf("stages %q, want [createRuntime]", h.Stages)
	}
	matched := false
	for k, v := range h.When.Annotations {
		kre, err1 := regexp.Compile(k)
		vre, err2 := regexp.Compile(v)
		if err1 != nil || err2 != nil {
			t.Errorf("bad annotation regexes %q: %q", k, v)
			continue
		}
		if kre.MatchString("io.remainroot.mode") && vre.MatchString("creds") &&
			!kre.MatchString("xio.remainroot.modex") && !vre.MatchString("xcredsx") {
			matched = true
		}
	}
	if !matched {
		t.Errorf("when.annotations %v: want anchored patterns matching io.remainroot.mode=creds", h.When.Annotations)
	}
	if t.Failed() {
		t.Logf("%s:\n%s", doc, data)
	}
	// The precreate hook, its drop-in, and the build hooks directories.
	for path, want := range map[string]string{
		"usr/share/remainroot/hooks.d/remainroot-precreate.json":        `"precreate"`,
		"etc/containers/containers.conf.d/50-remainroot.conf":           `"/usr/share/remainroot/hooks.d"`,
		"usr/share/remainroot/build-hooks.d/remainroot-build.json":      `"creds"`,
		"usr/share/remainroot/build-hooks-full.d/remainroot-build.json": `"full"`,
		"usr/share/containers/oci/hooks.d/remainroot.json":              `"createRuntime"`,
	} {
		data, err := os.ReadFile(filepath.Join(dest, path))
		if err != nil {
			t.Errorf("make install did not write /%s: %v", path, err)
			continue
		}
		if !strings.Contains(string(data), want) {
			t.Errorf("/%s lacks %s:\n%s", path, want, data)
		}
	}
	if _, err := os.Stat(filepath.Join(dest, "usr/share/containers/oci/hooks.d/remainroot-precreate.json")); err == nil {
		t.Error("the precreate hook is in podman's default hooks directory, where it fails root builds")
	}
}
