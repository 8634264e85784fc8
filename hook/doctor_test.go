package hook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/remainroot/remainroot/config"
	"github.com/remainroot/remainroot/doctor"
)

func TestParseIDMap(t *testing.T) {
	m, err := parseIDMap("         0       1001          1\n")
	if err != nil || len(m) != 1 || m[0] != (idRange{0, 1001, 1}) || mappedIDs(m) != 1 {
		t.Errorf("single: %v %v", m, err)
	}
	m, err = parseIDMap("0 1000 1\n1 100000 65536\n")
	if err != nil || mappedIDs(m) != 65537 || fmtIDMap(m) != "0 1000 1, 1 100000 65536" {
		t.Errorf("ranges: %v %v", m, err)
	}
	if m, _ := parseIDMap("0 0 4294967295\n"); mappedIDs(m) != 4294967295 {
		t.Errorf("full: %v", m)
	}
	for _, bad := range []string{"", "\n", "0 1000\n", "0 x 1\n", "0 1 99999999999\n"} {
		if _, err := parseIDMap(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSubIDRanges(t *testing.T) {
	data := "alice:100000:65536\n1001:200000:1000\nbob:300000:65536\n# comment\nalice:x:1\n"
	if n, lines := subIDRanges(data, "alice", 1000); n != 65536 || len(lines) != 1 {
		t.Errorf("alice: %d %q", n, lines)
	}
	if n, _ := subIDRanges(data, "carol", 1001); n != 1000 {
		t.Errorf("by uid: %d", n)
	}
	if n, _ := subIDRanges(data, "remainroot-test", 1002); n != 0 {
		t.Errorf("none: %d", n)
	}
}

func TestParseRuntimeVersion(t *testing.T) {
	runc := "runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\nlibseccomp: 2.5.4\n"
	info, err := parseRuntimeVersion("runc", runc)
	if err != nil || info.Version.String() != "1.1.5" || info.Libseccomp.String() != "2.5.4" || !info.Seccomp {
		t.Errorf("runc: %+v %v", info, err)
	}
	crun := "crun version 1.8.1\ncommit: f8a096be060b22ccd3d5f3ebe44108517fbf6c30\nrundir: /run/user/0/crun\nspec: 1.0.0\n+SYSTEMD +SELINUX +APPARMOR +CAP +SECCOMP +EBPF +YAJL\n"
	info, err = parseRuntimeVersion("crun", crun)
	if err != nil || info.Version.String() != "1.8.1" || !info.Seccomp {
		t.Errorf("crun: %+v %v", info, err)
	}
	info, _ = parseRuntimeVersion("crun", "crun version 1.8.1\n+SYSTEMD -SECCOMP\n")
	if info.Seccomp {
		t.Errorf("crun -SECCOMP: %+v", info)
	}
	if _, err := parseRuntimeVersion("runc", "usage: runc\n"); err == nil {
		t.Error("no version accepted")
	}
}

func TestVersionAtLeast(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{{"1.1.0", "1.1.0", true}, {"1.0.3", "1.1.0", false}, {"1.10.0", "1.9.9", true}, {"0.19", "0.19.0", true}, {"1.23.1", "1.23.2", false}, {"1.24", "1.23.2", true}} {
		a, _ := parseVersion(tt.a)
		b, _ := parseVersion(tt.b)
		if got := a.atLeast(b); got != tt.want {
			t.Errorf("%s >= %s: %v", tt.a, tt.b, got)
		}
	}
}

func TestJudgeRuntime(t *testing.T) {
	v := func(s string) version { x, _ := parseVersion(s); return x }
	tests := []struct {
		info   RuntimeInfo
		euid   int
		status doctor.Status
		want   string
	}{
		{RuntimeInfo{Name: "runc", Version: v("1.1.5"), Libseccomp: v("2.5.4")}, 1000, doctor.OK, "listenerPath (SCMP_ACT_NOTIFY) supported"},
		{RuntimeInfo{Name: "runc", Version: v("1.0.3"), Libseccomp: v("2.5.4")}, 1000, doctor.Warn, "no seccomp listenerPath"},
		{RuntimeInfo{Name: "runc", Version: v("1.1.5"), Libseccomp: v("2.4.4")}, 1000, doctor.Warn, "libseccomp 2.4.4"},
		{RuntimeInfo{Name: "crun", Version: v("1.8.1"), Seccomp: true}, 1000, doctor.OK, "bare rootless crun"},
		{RuntimeInfo{Name: "crun", Version: v("1.8.1"), Seccomp: true}, 0, doctor.Warn, "#1845"},
		{RuntimeInfo{Name: "crun", Version: v("1.23.1"), Seccomp: true}, 0, doctor.Warn, "/dev/null"},
		{RuntimeInfo{Name: "crun", Version: v("1.24"), Seccomp: true}, 0, doctor.OK, "as root"},
		{RuntimeInfo{Name: "crun", Version: v("0.18"), Seccomp: true}, 1000, doctor.Warn, "no seccomp listenerPath"},
	}
	for _, tt := range tests {
		c := judgeRuntime(tt.info, tt.euid)
		if c.Status != tt.status || !strings.Contains(c.Message, tt.want) || (c.Status != doctor.OK && c.Remedy == "") {
			t.Errorf("%s %s euid %d: %s %q (remedy %q), want %s with %q", tt.info.Name, tt.info.Version, tt.euid, c.Status, c.Message, c.Remedy, tt.status, tt.want)
		}
	}
}

// TestHooksDirCheck reads real hooks directories the way podman does.
func TestHooksDirCheck(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := HooksJSON(exe)
	if err != nil {
		t.Fatal(err)
	}
	good := t.TempDir()
	os.WriteFile(filepath.Join(good, HooksFileName), doc, 0o644)
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "README"), []byte("not a hook"), 0o644)
	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "other.json"), []byte("{"), 0o644)
	missingBin := t.TempDir()
	noBin, _ := HooksJSON(filepath.Join(missingBin, "no-such-remainroot"))
	os.WriteFile(filepath.Join(missingBin, HooksFileName), noBin, 0o644)

	tests := []struct {
		name   string
		dirs   []string
		status doctor.Status
		want   []string
	}{
		{"installed", []string{empty, good}, doctor.OK, []string{filepath.Join(good, HooksFileName), "runs " + exe}},
		{"absent", []string{empty, "/nonexistent-hooks.d"}, doctor.Fail, []string{"no remainroot.json", empty, "/nonexistent-hooks.d does not exist"}},
		{"malformed neighbour", []string{good, broken}, doctor.Fail, []string{filepath.Join(broken, "other.json")}},
		{"binary missing", []string{missingBin}, doctor.Fail, []string{"podman skips the hook"}},
		{"later directory wins", []string{good, missingBin}, doctor.Fail, []string{"podman skips the hook"}},
		{"none", []string{}, doctor.Fail, []string{"is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := config.ContainersConf{HooksDirs: tt.dirs, HooksDirsFrom: "test.conf"}
			c := hooksDirCheck(DoctorOptions{Self: exe}, conf, nil)
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
	c := hooksDirCheck(DoctorOptions{Self: exe, HooksDirs: []string{good}}, config.ContainersConf{HooksDirs: []string{empty}}, nil)
	if c.Status != doctor.OK || !strings.Contains(c.Message, "--hooks-dir") {
		t.Errorf("--hooks-dir: %+v", c)
	}
}

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
		status doctor.Status
		want   string
	}{
		{"set", set, true, doctor.OK, "images unpack"},
		{"unset, single", base, true, doctor.Fail, "ignore_chown_errors not set"},
		{"false, single", off, true, doctor.Fail, `ignore_chown_errors = "false"`},
		{"unset, ranges", base, false, doctor.OK, "not needed"},
	}
	for _, tt := range tests {
		c := storageCheck(DoctorOptions{}, tt.s, nil, tt.single)
		if c.Status != tt.status || !strings.Contains(c.Message, tt.want) || !strings.Contains(c.Message, base.File) {
			t.Errorf("%s: %s %q, want %s with %q and the file", tt.name, c.Status, c.Message, tt.status, tt.want)
		}
		if c.Status == doctor.Fail && !strings.Contains(c.Remedy, "ignore_chown_errors") {
			t.Errorf("%s: remedy %q", tt.name, c.Remedy)
		}
	}
}

func TestBuildHooksDirs(t *testing.T) {
	for self, want := range map[string]string{
		"/nonexistent/usr/bin/remainroot":       "/nonexistent/usr/share/remainroot/build-hooks",
		"/nonexistent/usr/local/bin/remainroot": "/nonexistent/usr/local/share/remainroot/build-hooks",
	} {
		got := BuildHooksDirs(self)
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
	if c := buildHooksCheck("b", dir); c.Status != doctor.Warn || !strings.Contains(c.Message, BuildFileName) {
		t.Errorf("absent: %+v", c)
	}
	doc, err := BuildHooksJSON(exe, config.ModeFull)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, BuildFileName), doc, 0o644)
	if c := buildHooksCheck("b", dir); c.Status != doctor.OK || !strings.Contains(c.Message, "--hooks-dir "+dir) || !strings.Contains(c.Message, "--mode full") {
		t.Errorf("installed: %+v", c)
	}
	// A precreate document there fails builds (buildah knows no extension stages).
	pre, _ := PrecreateHooksJSON(exe)
	os.WriteFile(filepath.Join(dir, BuildFileName), pre, 0o644)
	if c := buildHooksCheck("b", dir); c.Status != doctor.Fail {
		t.Errorf("precreate in a build dir: %+v", c)
	}
}

func TestPrecreateCheck(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	main, pre := t.TempDir(), t.TempDir()
	doc, _ := HooksJSON(exe)
	os.WriteFile(filepath.Join(main, HooksFileName), doc, 0o644)
	if c := precreateCheck(DoctorOptions{}, config.ContainersConf{HooksDirs: []string{main, pre}}, nil); c.Status != doctor.Warn {
		t.Errorf("absent: %+v", c)
	}
	p, _ := PrecreateHooksJSON(exe)
	os.WriteFile(filepath.Join(pre, PrecreateFileName), p, 0o644)
	conf := config.ContainersConf{HooksDirs: []string{main, pre}}
	if c := precreateCheck(DoctorOptions{}, conf, nil); c.Status != doctor.OK {
		t.Errorf("installed: %+v", c)
	}
	// podman's extension stages make the precreate document valid beside remainroot.json.
	if c := hooksDirCheck(DoctorOptions{Self: exe}, conf, nil); c.Status != doctor.OK {
		t.Errorf("hooks_dir with the precreate directory: %+v", c)
	}
}
