package imagestore

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func keyOf(t *testing.T, p string) FileKey {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return FileKey{uint64(st.Dev), st.Ino}
}

func TestResolve(t *testing.T) {
	top := t.TempDir()
	root := filepath.Join(top, "rootfs")
	outside := filepath.Join(top, "outside")
	for _, d := range []string{root + "/etc", root + "/sub", outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{root + "/etc/shadow", outside + "/secret", root + "/secret"} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Symlinks that would lead out of the root if followed on the host.
	links := map[string]string{"abs": outside, "rel": "../outside", "sub/up": "../../outside", "shadowlink": "/etc/shadow"}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	table := Table{
		{Path: "/etc/shadow", GID: 42, Mode: 0o640},
		{Path: "/abs/secret", UID: 1},
		{Path: "/rel/secret", UID: 2},
		{Path: "/sub/up/secret", UID: 3},
		{Path: "/shadowlink", UID: 4},
		{Path: "/gone", UID: 5},
	}
	owners, missing, err := Resolve(root, table)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := owners[keyOf(t, root+"/etc/shadow")]; !ok || o.GID != 42 {
		t.Errorf("/etc/shadow: %v %v", o, ok)
	}
	if _, ok := owners[keyOf(t, outside+"/secret")]; ok {
		t.Errorf("a symlink led out of the root: %v", owners)
	}
	// /rel and /sub/up resolve, in the root, to /outside, which it does
	// not have; /abs to the root's own /outside, also missing.
	if o, ok := owners[keyOf(t, root+"/shadowlink")]; !ok || o.UID != 4 {
		t.Errorf("the symlink itself, not its target: %v %v", o, ok)
	}
	if missing != 4 {
		t.Errorf("missing %d, want 4 (abs, rel, sub/up, gone)", missing)
	}
	// In the root, ../.. stops at the root: /sub/up/secret is /secret
	// once /outside exists in it as a link to /.
	if err := os.Symlink("/", filepath.Join(root, "outside")); err != nil {
		t.Fatal(err)
	}
	owners, _, err = Resolve(root, table)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := owners[keyOf(t, root+"/secret")]; !ok {
		t.Errorf("/sub/up/secret in the root: %v %v", o, ok)
	}
	if _, ok := owners[keyOf(t, outside+"/secret")]; ok {
		t.Errorf("a symlink led out of the root")
	}
}

func TestImageOwner(t *testing.T) {
	o := Owners{{1, 2}: {UID: 0, GID: 42, Mode: 0o640}}
	if got, ok := o.ImageOwner(1, 2); !ok || got.GID != 42 {
		t.Errorf("got %v %v", got, ok)
	}
	if _, ok := o.ImageOwner(1, 3); ok {
		t.Error("an unknown inode has an owner")
	}
	o[FileKey{1, 4}] = Owner{Mode: 0o4755}
	if n := o.NotRoot(); len(n) != 1 {
		t.Errorf("NotRoot: %v", n)
	}
}
