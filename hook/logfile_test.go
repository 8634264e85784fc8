package hook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/test/testenv"
)

func TestCheckLogDir(t *testing.T) {
	euid := os.Geteuid()
	mkdir := func(t *testing.T, mode os.FileMode) string {
		d := filepath.Join(t.TempDir(), "logs")
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		name string
		dir  func(t *testing.T) string
		euid int
		want string // "" when accepted, else part of the error
	}{
		{"own 0700 dir", func(t *testing.T) string { return mkdir(t, 0o700) }, euid, ""},
		{"own 0755 dir", func(t *testing.T) string { return mkdir(t, 0o755) }, euid, ""},
		{"owned by another uid", func(t *testing.T) string { return mkdir(t, 0o700) }, euid + 1, "owned by uid"},
		{"group-writable", func(t *testing.T) string { return mkdir(t, 0o770) }, euid, "writable by group or others"},
		{"other-writable", func(t *testing.T) string { return mkdir(t, 0o703) }, euid, "writable by group or others"},
		{"sticky and world-writable, like /tmp", func(t *testing.T) string { return mkdir(t, 0o1777) }, euid, "writable by group or others"},
		{"symlink to an own 0700 dir", func(t *testing.T) string {
			link := filepath.Join(t.TempDir(), "link")
			if err := os.Symlink(mkdir(t, 0o700), link); err != nil {
				t.Fatal(err)
			}
			return link
		}, euid, "symbolic link"},
		{"regular file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, euid, "not a directory"},
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "none") }, euid, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkLogDir(tc.dir(t), tc.euid)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Errorf("accepted, want an error with %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q, want %q in it", err, tc.want)
			}
		})
	}
}

// TestCheckLogDirOtherOwner: a real directory of another uid (made as
// root) is not used and nothing is created in it.
func TestCheckLogDirOtherOwner(t *testing.T) {
	testenv.RequireRoot(t)
	d := filepath.Join(t.TempDir(), "theirs")
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(d, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if _, err := pickLogFile([]string{d}, "c.log"); err == nil || !strings.Contains(err.Error(), "owned by uid 4242") {
		t.Errorf("a directory of uid 4242 was used: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(d, "c.log")); err == nil {
		t.Errorf("a log file was created in uid 4242's directory")
	}
}

func TestOpenLogFile(t *testing.T) {
	t.Run("created 0600", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "c.log")
		f, err := openLogFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", fi.Mode().Perm())
		}
	})
	t.Run("appends", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "c.log")
		for _, s := range []string{"a\n", "b\n"} {
			f, err := openLogFile(p)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(s)
			f.Close()
		}
		if data, _ := os.ReadFile(p); string(data) != "a\nb\n" {
			t.Errorf("file holds %q", data)
		}
	})
	t.Run("symlinked log file", func(t *testing.T) {
		d := t.TempDir()
		target := filepath.Join(t.TempDir(), "victim")
		if err := os.WriteFile(target, []byte("untouched"), 0o600); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(d, "c.log")
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		if f, err := openLogFile(p); err == nil {
			f.Close()
			t.Fatal("opened through a symbolic link")
		} else if !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("error %q does not say symbolic link", err)
		}
		if data, _ := os.ReadFile(target); string(data) != "untouched" {
			t.Errorf("the link's target was changed: %q", data)
		}
	})
	t.Run("dangling symlinked log file", func(t *testing.T) {
		d := t.TempDir()
		target := filepath.Join(t.TempDir(), "created-by-the-hook")
		p := filepath.Join(d, "c.log")
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		if f, err := openLogFile(p); err == nil {
			f.Close()
			t.Fatal("opened through a dangling symbolic link")
		}
		if _, err := os.Lstat(target); err == nil {
			t.Errorf("the link's target was created")
		}
	})
	t.Run("fifo", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "c.log")
		if err := unix.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
		if f, err := openLogFile(p); err == nil {
			f.Close()
			t.Fatal("opened a FIFO")
		}
	})
	t.Run("in a group-writable dir", func(t *testing.T) {
		d := t.TempDir()
		if err := os.Chmod(d, 0o770); err != nil {
			t.Fatal(err)
		}
		if f, err := openLogFile(filepath.Join(d, "c.log")); err == nil {
			f.Close()
			t.Fatal("opened in a group-writable directory")
		}
		if _, err := os.Lstat(filepath.Join(d, "c.log")); err == nil {
			t.Errorf("the file was created")
		}
	})
}

func TestPickLogFile(t *testing.T) {
	good := filepath.Join(t.TempDir(), "remainroot-1")
	link := filepath.Join(t.TempDir(), "remainroot-2")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	shared := t.TempDir()
	if err := os.Chmod(shared, 0o1777); err != nil {
		t.Fatal(err)
	}

	t.Run("creates the first dir 0700", func(t *testing.T) {
		p, err := pickLogFile([]string{good}, "c.log")
		if err != nil || p != filepath.Join(good, "c.log") {
			t.Fatalf("got %q, %v", p, err)
		}
		fi, err := os.Lstat(good)
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("dir %v, %v", fi.Mode(), err)
		}
	})
	t.Run("skips a symlinked dir for the next", func(t *testing.T) {
		p, err := pickLogFile([]string{link, good}, "c.log")
		if err != nil || p != filepath.Join(good, "c.log") {
			t.Fatalf("got %q, %v", p, err)
		}
	})
	t.Run("none safe: no log file and why", func(t *testing.T) {
		p, err := pickLogFile([]string{link, shared}, "c.log")
		if p != os.DevNull || err == nil {
			t.Fatalf("got %q, %v", p, err)
		}
		for _, want := range []string{link, "symbolic link", shared, "writable by group or others"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
		if _, err := os.Lstat(filepath.Join(shared, "c.log")); err == nil {
			t.Errorf("a log file was created in the shared directory")
		}
	})
}

func TestRunSaysNoLogFileOnce(t *testing.T) {
	shared := t.TempDir()
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REMAINROOT_LOG_DIR", shared)
	t.Setenv("TMPDIR", shared) // the fallback $TMPDIR/remainroot-<uid> is then created safely
	var stderr strings.Builder
	// Init 0x7fffffff does not exist: the hook fails after choosing its log.
	state := `{"ociVersion":"1.0.2","id":"c1","status":"creating","pid":2147483647,"bundle":"/nonexistent","annotations":{"io.remainroot.mode":"creds"}}`
	if code := Run(strings.NewReader(state), &stderr); code == 0 {
		t.Fatalf("hook succeeded: %q", stderr.String())
	}
	if strings.Count(stderr.String(), "\n") != 1 || strings.Contains(stderr.String(), "no log file") {
		t.Errorf("want one failure line without a log problem (the fallback is safe), got %q", stderr.String())
	}

	// Now the fallback is a symbolic link someone else planted.
	shared2 := t.TempDir()
	if err := os.Chmod(shared2, 0o777); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REMAINROOT_LOG_DIR", shared2)
	t.Setenv("TMPDIR", shared2)
	if err := os.Symlink(t.TempDir(), filepath.Join(shared2, "remainroot-"+hostUID())); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := Run(strings.NewReader(state), &stderr); code == 0 {
		t.Fatalf("hook succeeded: %q", stderr.String())
	}
	out := stderr.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "no log file") || !strings.Contains(out, "symbolic link") {
		t.Errorf("want one line naming the failure and the missing log file, got %q", out)
	}
}
