package e2e

// `remainroot doctor` on the machine test/setup-env.sh prepared: as the
// test user and as root it passes; a storage.conf without
// ignore_chown_errors and a hooks_dir without remainroot.json fail and say
// which; --json parses.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/doctor"
)

// doctorRun runs `bin doctor ARGS` with extra environment, as the test user
// or as root.
func doctorRun(t *testing.T, bin string, asTestUser bool, env []string, args ...string) result {
	t.Helper()
	argv := append([]string{"doctor"}, args...)
	var cmd *exec.Cmd
	if asTestUser {
		cmd = asUser(t, "env", append(append(env, bin), argv...)...)
	} else {
		cmd = exec.Command(bin, argv...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Dir = "/"
	}
	return run(t, cmd, 3*time.Minute)
}

// doctorLine returns the output line of the check name.
func doctorLine(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 6 && strings.HasPrefix(line[6:], name+": ") {
			return line
		}
	}
	return ""
}

// doctorConf writes a containers.conf whose hooks_dir is dir and returns
// its path, readable by the test user.
func doctorConf(t *testing.T, dir string) string {
	t.Helper()
	conf := filepath.Join(userTempDir(t), "containers.conf")
	writeUserFile(t, conf, "[engine]\nhooks_dir = [\""+dir+"\"]\n")
	return conf
}

func TestDoctorReadySetup(t *testing.T) {
	bin := setup(t, "podman")
	hooks := hooksDir(t, bin)
	for _, asTestUser := range []bool{true, false} {
		who := "root"
		if asTestUser {
			who = "test user"
		}
		t.Run(who, func(t *testing.T) {
			record(t, "doctor", "ready setup as "+who, true)
			r := doctorRun(t, bin, asTestUser, []string{"CONTAINERS_CONF=" + doctorConf(t, hooks)})
			if r.code != 0 {
				t.Fatalf("doctor failed on the ready setup\n%s", r)
			}
			for _, name := range []string{"kernel: seccomp", "kernel: seccomp user notification", "kernel: pidfd_getfd", "user namespace", "podman: version", "podman: hooks_dir", "podman: storage"} {
				line := doctorLine(r.stdout, name)
				if !strings.HasPrefix(line, "ok ") {
					t.Errorf("%s: %q, want ok\n%s", name, line, r.stdout)
				}
			}
			// crun as root may warn (crun #1845); neither may be missing.
			for _, name := range []string{"runtime: crun", "runtime: runc"} {
				if line := doctorLine(r.stdout, name); line == "" {
					t.Errorf("no %s line\n%s", name, r.stdout)
				}
			}
			if line := doctorLine(r.stdout, "podman: hooks_dir"); !strings.Contains(line, filepath.Join(hooks, "remainroot.json")) {
				t.Errorf("hooks_dir line does not name %s: %q", hooks, line)
			}
			if asTestUser {
				// setup-env.sh's user: single mapping, vfs with ignore_chown_errors.
				if line := doctorLine(r.stdout, "user namespace"); !strings.Contains(line, "single id") {
					t.Errorf("user namespace: %q", line)
				}
				if line := doctorLine(r.stdout, "podman: storage"); !strings.Contains(line, "ignore_chown_errors = \"true\"") {
					t.Errorf("storage: %q", line)
				}
			}
		})
	}
}

func TestDoctorStorageWithoutIgnoreChownErrors(t *testing.T) {
	bin := setup(t, "podman")
	record(t, "doctor", "storage.conf without ignore_chown_errors fails", true)
	storage := filepath.Join(userTempDir(t), "storage.conf")
	writeUserFile(t, storage, "[storage]\ndriver = \"vfs\"\n")
	r := doctorRun(t, bin, true, []string{"CONTAINERS_CONF=" + doctorConf(t, hooksDir(t, bin)), "CONTAINERS_STORAGE_CONF=" + storage})
	if r.code != 1 {
		t.Fatalf("doctor exited %d, want 1\n%s", r.code, r)
	}
	line := doctorLine(r.stdout, "podman: storage")
	if !strings.HasPrefix(line, "fail") || !strings.Contains(line, "ignore_chown_errors") || !strings.Contains(line, storage) {
		t.Errorf("storage line %q: want a failure naming ignore_chown_errors and %s\n%s", line, storage, r.stdout)
	}
	if !strings.Contains(r.stdout, "-> Add ignore_chown_errors = \"true\" to [storage.options.vfs] of "+storage) {
		t.Errorf("no remedy\n%s", r.stdout)
	}
}

func TestDoctorHooksDirWithoutRemainroot(t *testing.T) {
	bin := setup(t, "podman")
	record(t, "doctor", "hooks_dir without remainroot.json fails", true)
	empty := userTempDir(t)
	for _, asTestUser := range []bool{true, false} {
		r := doctorRun(t, bin, asTestUser, []string{"CONTAINERS_CONF=" + doctorConf(t, empty)})
		if r.code != 1 {
			t.Fatalf("doctor exited %d, want 1\n%s", r.code, r)
		}
		line := doctorLine(r.stdout, "podman: hooks_dir")
		if !strings.HasPrefix(line, "fail") || !strings.Contains(line, "remainroot.json") || !strings.Contains(line, empty) {
			t.Errorf("hooks_dir line %q: want a failure naming remainroot.json and %s\n%s", line, empty, r.stdout)
		}
	}
}

func TestDoctorJSON(t *testing.T) {
	bin := setup(t, "podman")
	record(t, "doctor", "--json parses", true)
	for _, tt := range []struct {
		hooks string
		code  int
	}{{hooksDir(t, bin), 0}, {userTempDir(t), 1}} {
		r := doctorRun(t, bin, true, []string{"CONTAINERS_CONF=" + doctorConf(t, tt.hooks)}, "--json")
		if r.code != tt.code {
			t.Fatalf("doctor --json exited %d, want %d\n%s", r.code, tt.code, r)
		}
		var rep doctor.Report
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rep); err != nil {
			t.Fatalf("doctor --json: %v\n%s", err, r.stdout)
		}
		if len(rep.Checks) < 10 || rep.OK+rep.Warn+rep.Fail != len(rep.Checks) || (rep.Fail > 0) != (tt.code == 1) {
			t.Errorf("report %+v", rep)
		}
		for _, c := range rep.Checks {
			switch {
			case c.Name == "" || c.Message == "":
				t.Errorf("check without name or message: %+v", c)
			case c.Status != doctor.OK && c.Status != doctor.Warn && c.Status != doctor.Fail:
				t.Errorf("status %q: %+v", c.Status, c)
			case c.Status != doctor.OK && c.Remedy == "":
				t.Errorf("no remedy: %+v", c)
			}
		}
	}
}
