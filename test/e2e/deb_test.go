package e2e

// `make deb` builds a package that lintian accepts; installed with dpkg it
// runs an annotated rootless podman container through its hook, doctor
// finds everything it installed, `man remainroot` works, and a purge leaves
// nothing behind. `make install` installs the man page too.

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// debPaths lists the paths in a .deb (dpkg-deb -c), files and directories,
// absolute.
func debPaths(t *testing.T, deb string) (files, dirs []string) {
	t.Helper()
	out, err := exec.Command("dpkg-deb", "-c", deb).Output()
	if err != nil {
		t.Fatalf("dpkg-deb -c %s: %v", deb, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		p := filepath.Clean("/" + strings.TrimPrefix(f[5], "./"))
		if p == "/" {
			continue
		}
		if strings.HasPrefix(f[0], "d") {
			dirs = append(dirs, p)
		} else {
			files = append(files, p)
		}
	}
	return files, dirs
}

func TestDebPackage(t *testing.T) {
	for _, tool := range []string{"make", "go", "dpkg", "dpkg-deb", "lintian", "go-md2man", "man"} {
		_, err := exec.LookPath(tool)
		testenv.Need(t, err == nil, "%s not found in PATH (run test/setup-env.sh)", tool)
	}
	setup(t, "podman")
	record(t, "deb", "make deb, lintian, dpkg -i, podman run, purge", true)
	root := testenv.ModuleRoot(t)

	// Build.
	// Under `make test` MAKELEVEL and MAKEFLAGS are inherited, and a
	// sub-make prints "Entering/Leaving directory" around the output.
	cmd := exec.Command("make", "--no-print-directory", "deb")
	cmd.Dir = root
	r := run(t, cmd, 10*time.Minute)
	if r.code != 0 {
		t.Fatalf("make deb failed\n%s", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	deb := filepath.Join(root, lines[len(lines)-1])
	if !strings.HasPrefix(filepath.Base(deb), "remainroot_") || !strings.HasSuffix(deb, ".deb") {
		t.Fatalf("make deb did not end with the package's path\n%s", r)
	}
	if _, err := os.Stat(deb); err != nil {
		t.Fatal(err)
	}

	// lintian: no errors (E:); warnings are printed for the record.
	lr := run(t, exec.Command("lintian", deb), 5*time.Minute)
	for _, line := range strings.Split(lr.stdout, "\n") {
		if strings.HasPrefix(line, "E: ") {
			t.Errorf("lintian: %s", line)
		}
	}
	if lr.stdout != "" {
		t.Logf("lintian:\n%s", lr.stdout)
	}

	files, dirs := debPaths(t, deb)
	for _, want := range []string{"/usr/bin/remainroot", "/usr/share/containers/oci/hooks.d/remainroot.json",
		"/usr/share/remainroot/build-hooks.d/remainroot-build.json", "/usr/share/man/man1/remainroot.1.gz",
		"/usr/share/doc/remainroot/copyright", "/usr/share/doc/remainroot/changelog.Debian.gz"} {
		if !slices.Contains(files, want) {
			t.Errorf("the package lacks %s: %q", want, files)
		}
	}
	info, err := exec.Command("dpkg-deb", "-f", deb, "Recommends", "Depends", "Version").Output()
	if err != nil || !strings.Contains(string(info), "Recommends: podman | runc | crun") || strings.Contains(string(info), "Depends:") {
		t.Errorf("control fields: %v\n%s", err, info)
	}
	if t.Failed() {
		return
	}

	// Install, leaving the host as found: no remainroot package may be
	// installed already, and files of the package that exist (a `make
	// install` into /usr writes some of the same paths) are moved aside
	// and put back after the purge.
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "remainroot").Output(); err == nil && strings.Contains(string(out), "installed") {
		t.Fatalf("a remainroot package is installed already (%s): not touching it", out)
	}
	var newDirs []string
	for _, d := range dirs {
		if _, err := os.Lstat(d); errors.Is(err, fs.ErrNotExist) {
			newDirs = append(newDirs, d)
		}
	}
	aside := t.TempDir()
	var moved []string
	for i, f := range files {
		if _, err := os.Lstat(f); err == nil {
			if err := os.Rename(f, filepath.Join(aside, strings.Repeat("x", i+1))); err != nil {
				t.Fatalf("move %s aside: %v", f, err)
			}
			moved = append(moved, f)
			t.Logf("moved the host's %s aside for the test", f)
		}
	}
	installed := false
	t.Cleanup(func() {
		if installed {
			if out, err := exec.Command("dpkg", "--purge", "remainroot").CombinedOutput(); err != nil {
				t.Errorf("cleanup: dpkg --purge: %v\n%s", err, out)
			}
		}
		for i, f := range files {
			if slices.Contains(moved, f) {
				if err := os.Rename(filepath.Join(aside, strings.Repeat("x", i+1)), f); err != nil {
					t.Errorf("put the host's %s back: %v", f, err)
				}
			}
		}
	})

	start := time.Now()
	if out, err := exec.Command("dpkg", "-i", deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg -i %s: %v\n%s", deb, err, out)
	}
	installed = true

	// What the user does first: doctor, as the user who runs containers.
	d := run(t, asUser(t, "/usr/bin/remainroot", "doctor"), 3*time.Minute)
	if d.code != 0 {
		t.Errorf("doctor of the installed package failed\n%s", d)
	}
	for _, name := range []string{"podman: hooks_dir", "podman: precreate hook", "podman build: hooks directory (mode creds)", "podman build: hooks directory (mode full)"} {
		if line := doctorLine(d.stdout, name); !strings.HasPrefix(line, "ok ") || !strings.Contains(line, "/usr/") {
			t.Errorf("doctor %s: %q, want ok with the package's file\n%s", name, line, d.stdout)
		}
	}
	// An annotated container through the installed hook, with podman's
	// default hooks_dir.
	p := podman(t, 3*time.Minute, "run", "--rm", "--network=none", "--annotation", modeAnn,
		busyboxImage, "su", "-s", "/bin/sh", "nobody", "-c", "id")
	if p.code != 0 || !strings.Contains(p.stdout, "uid=65534(nobody)") {
		t.Errorf("annotated container through the installed hook\n%s", p)
	}
	if out, err := exec.Command("man", "-w", "remainroot").Output(); err != nil || strings.TrimSpace(string(out)) != "/usr/share/man/man1/remainroot.1.gz" {
		t.Errorf("man -w remainroot: %v %q", err, out)
	}
	if out, err := exec.Command("sh", "-c", "MANWIDTH=80 man remainroot | head -5").Output(); err != nil || !strings.Contains(strings.Join(strings.Fields(string(out)), " "), "remainroot - run unmodified programs") {
		t.Errorf("man remainroot: %v\n%s", err, out)
	}

	if out, err := exec.Command("dpkg", "--purge", "remainroot").CombinedOutput(); err != nil {
		t.Fatalf("dpkg --purge: %v\n%s", err, out)
	}
	installed = false
	t.Logf("installed for %s", time.Since(start).Round(time.Millisecond))

	for _, f := range files {
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("%s is left after the purge", f)
		}
	}
	for _, d := range newDirs {
		if _, err := os.Lstat(d); err == nil {
			t.Errorf("directory %s, created by the package, is left after the purge", d)
		}
	}
	if out, _ := exec.Command("dpkg-query", "-W", "-f=${Status}", "remainroot").CombinedOutput(); strings.Contains(string(out), "installed") {
		t.Errorf("dpkg still lists remainroot: %s", out)
	}
}

// TestMakeInstallManPage: `make install` installs remainroot(1), which man
// renders.
func TestMakeInstallManPage(t *testing.T) {
	for _, tool := range []string{"make", "go", "go-md2man", "man"} {
		_, err := exec.LookPath(tool)
		testenv.Need(t, err == nil, "%s not found in PATH (run test/setup-env.sh)", tool)
	}
	record(t, "make install", "man page", true)
	dest := t.TempDir()
	cmd := exec.Command("make", "install", "DESTDIR="+dest, "PREFIX=/usr")
	cmd.Dir = testenv.ModuleRoot(t)
	if r := run(t, cmd, 5*time.Minute); r.code != 0 {
		t.Fatalf("make install failed\n%s", r)
	}
	page := filepath.Join(dest, "usr/share/man/man1/remainroot.1")
	out, err := exec.Command("man", "-l", page).Output()
	if err != nil {
		t.Fatalf("man -l %s: %v", page, err)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	for _, want := range []string{"remainroot - run unmodified programs", "doctor", "hooks-json", "io.remainroot.mode", "EXIT STATUS", "SECURITY MODEL"} {
		if !strings.Contains(text, want) {
			t.Errorf("the man page lacks %q", want)
		}
	}
}
