package e2e

// `make man` (and so `make install` and `make deb`) builds the man page on a
// machine without Debian's go-md2man: through `go run` of the Go module, or
// else it says in one line what to install.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// manTree copies what the man rule reads (the Makefile and the page's
// markdown) into a new directory, so that the test leaves the module's bin/
// alone; it returns the directory and the Makefile's GO_MD2MAN_MODULE.
func manTree(t *testing.T) (dir, module string) {
	t.Helper()
	root := testenv.ModuleRoot(t)
	dir = t.TempDir()
	for _, f := range []string{"Makefile", "docs/remainroot.1.md"} {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	makefile, _ := os.ReadFile(filepath.Join(dir, "Makefile"))
	m := regexp.MustCompile(`(?m)^GO_MD2MAN_MODULE \?= (\S+)$`).FindSubmatch(makefile)
	if m == nil {
		t.Fatal("the Makefile sets no GO_MD2MAN_MODULE")
	}
	return dir, string(m[1])
}

// pathOf returns a directory for PATH holding only the named programs
// (symbolic links to the ones on the test's PATH).
func pathOf(t *testing.T, programs ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range programs {
		path, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("%s not found in PATH: %v", p, err)
		}
		if err := os.Symlink(path, filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// makeMan runs `make man` in dir with PATH set to path only.
func makeMan(t *testing.T, dir, path string) result {
	t.Helper()
	mk, err := exec.LookPath("make")
	testenv.Need(t, err == nil, "make not found in PATH")
	cmd := exec.Command(mk, "man")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+path)
	return run(t, cmd, 5*time.Minute)
}

func TestMakeManWithoutGoMd2man(t *testing.T) {
	_, err := exec.LookPath("go")
	testenv.Need(t, err == nil, "go not found in PATH")
	record(t, "make man", "without go-md2man: go run", false)

	dir, module := manTree(t)
	// The module comes from the module cache or the proxy; without either
	// the rule's failure is all there is to see.
	dl := exec.Command("go", "mod", "download", module)
	dl.Dir, dl.Env = dir, append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := dl.CombinedOutput()
	testenv.Need(t, err == nil, "go mod download %s: %v: %s", module, err, out)

	r := makeMan(t, dir, pathOf(t, "go", "mkdir"))
	if r.code != 0 {
		t.Fatalf("make man without go-md2man failed\n%s", r)
	}
	if !strings.Contains(r.stdout, "go run "+module) {
		t.Errorf("make man did not say it ran %s\n%s", module, r)
	}
	page, err := os.ReadFile(filepath.Join(dir, "bin", "remainroot.1"))
	if err != nil {
		t.Fatalf("no man page: %v\n%s", err, r)
	}
	if !strings.Contains(string(page), ".TH remainroot 1") || !strings.Contains(string(page), ".SH SYNOPSIS") {
		t.Errorf("bin/remainroot.1 is not remainroot(1):\n%.400s", page)
	}
}

func TestMakeManWithoutGoMd2manOrGo(t *testing.T) {
	record(t, "make man", "without go-md2man or go: what to install", false)
	dir, _ := manTree(t)
	r := makeMan(t, dir, pathOf(t, "mkdir"))
	if r.code == 0 {
		t.Fatalf("make man succeeded without go-md2man or go\n%s", r)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(r.stderr), "\n")
	if !strings.Contains(first, "install go-md2man") {
		t.Errorf("make man's first line of error %q does not say what to install\n%s", first, r)
	}
	if _, err := os.Stat(filepath.Join(dir, "bin", "remainroot.1")); err == nil {
		t.Error("make man failed but left bin/remainroot.1")
	}
}
