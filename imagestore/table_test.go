package imagestore

import (
	"archive/tar"
	"fmt"
	"path"
	"reflect"
	"strings"
	"testing"
)

func TestMergeLayers(t *testing.T) {
	shadow := file("./etc/shadow", 0, 42, 0o640)
	cases := []struct {
		name   string
		layers [][]*tar.Header
		want   Table
	}{
		{"root files are left out", [][]*tar.Header{{dir("./", 0, 0, 0o755), dir("./etc/", 0, 0, 0o755), file("./etc/passwd", 0, 0, 0o644), shadow}},
			Table{{"/etc/shadow", 0, 42, 0o640}}},
		{"special bits of root files are kept", [][]*tar.Header{{file("usr/bin/passwd", 0, 0, 0o4755), dir("tmp", 0, 0, 0o1777)}},
			Table{{"/tmp", 0, 0, 0o1777}, {"/usr/bin/passwd", 0, 0, 0o4755}}},
		{"a later layer overrides", [][]*tar.Header{{shadow}, {file("etc/shadow", 0, 43, 0o600)}},
			Table{{"/etc/shadow", 0, 43, 0o600}}},
		{"a later root-owned replacement cancels", [][]*tar.Header{{shadow, file("a", 1, 1, 0o644)}, {file("etc/shadow", 0, 0, 0o600)}},
			Table{{"/a", 1, 1, 0o644}}},
		{"a whiteout removes a file", [][]*tar.Header{{shadow}, {file("etc/.wh.shadow", 0, 0, 0)}},
			Table{}},
		{"a whiteout removes a directory and what is below", [][]*tar.Header{{dir("d", 5, 5, 0o755), file("d/e/f", 6, 6, 0o644), file("dd/f", 7, 7, 0o644)}, {file(".wh.d", 0, 0, 0)}},
			Table{{"/dd/f", 7, 7, 0o644}}},
		{"an opaque directory hides what earlier layers had below it", [][]*tar.Header{{dir("d", 5, 5, 0o755), file("d/f", 6, 6, 0o644), file("d/g", 6, 6, 0o644)},
			{dir("d", 5, 5, 0o755), file("d/.wh..wh..opq", 0, 0, 0), file("d/g", 8, 8, 0o644)}},
			Table{{"/d", 5, 5, 0o755}, {"/d/g", 8, 8, 0o644}}},
		{"an opaque marker before its directory's entries keeps them", [][]*tar.Header{{file("d/.wh..wh..opq", 0, 0, 0), file("d/f", 1, 1, 0o644)}},
			Table{{"/d/f", 1, 1, 0o644}}},
		{"a file replacing a directory removes what was below", [][]*tar.Header{{file("d/f", 6, 6, 0o644)}, {file("d", 0, 0, 0o644)}},
			Table{}},
		{"a directory replacing a directory keeps what was below", [][]*tar.Header{{file("d/f", 6, 6, 0o644)}, {dir("d", 0, 0, 0o755)}},
			Table{{"/d/f", 6, 6, 0o644}}},
		{"a hard link shares its target's owner", [][]*tar.Header{{file("bin/a", 0, 0, 0o755), hardlink("bin/b", "bin/a", 0, 42, 0o2755)}},
			Table{{"/bin/a", 0, 42, 0o2755}, {"/bin/b", 0, 42, 0o2755}}},
		{"a root-owned hard link makes its target root's", [][]*tar.Header{{file("bin/a", 0, 42, 0o2755), hardlink("bin/b", "./bin/a", 0, 0, 0o755)}},
			Table{}},
		{"a symlink is an entry of its own", [][]*tar.Header{{symlink("l", "/etc/shadow"), {Typeflag: tar.TypeSymlink, Name: "m", Linkname: "x", Uid: 3, Gid: 3}}},
			Table{{"/m", 3, 3, 0}}},
		{"other AUFS metadata is ignored", [][]*tar.Header{{file(".wh..wh.plnk/123", 0, 0, 0), file("a", 1, 1, 0o644)}},
			Table{{"/a", 1, 1, 0o644}}},
		{"whiteouts do not touch their own layer", [][]*tar.Header{{file("a", 1, 1, 0o644), file(".wh.a", 0, 0, 0)}},
			Table{{"/a", 1, 1, 0o644}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var layers []func(func(*header) error) error
			for _, l := range c.layers {
				layers = append(layers, layer(l...))
			}
			got, err := mergeLayers(layers...)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v\nwant %v", got, c.want)
			}
		})
	}
}

func TestMergeRefuses(t *testing.T) {
	cases := []struct {
		name string
		hdr  *tar.Header
		want string
	}{
		{"..", file("a/../../etc/shadow", 1, 1, 0o644), "leaves the image's root"},
		{"a hard link out", hardlink("a", "../../etc/shadow", 1, 1, 0o644), "leaves the image's root"},
		{"a long path", file(strings.Repeat("a/", 3000), 1, 1, 0o644), "more than 4096"},
		{"a negative owner", file("a", -1, 1, 0o644), "out of range"},
		{"an owner beyond 32 bits", file("a", 1<<32, 1, 0o644), "out of range"},
		{"a NUL", file("a\x00b", 1, 1, 0o644), "NUL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := mergeLayers(layer(c.hdr))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %v, want %q", err, c.want)
			}
		})
	}
}

func TestAbsolutePathsAreInTheRoot(t *testing.T) {
	got, err := mergeLayers(layer(file("/etc//shadow", 0, 42, 0o640)))
	if err != nil || len(got) != 1 || got[0].Path != "/etc/shadow" {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestMergeBoundsTheTable(t *testing.T) {
	many := func(fn func(*header) error) error {
		for i := 0; i <= maxTable; i++ {
			if err := fn(headerOf(file(fmt.Sprintf("f%d", i), 1, 1, 0o644))); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := mergeLayers(many); err == nil || !strings.Contains(err.Error(), "owned paths") {
		t.Errorf("err %v, want a bound", err)
	}
}

// TestAppendClean: the merger's path cleaning is path.Clean's, in the
// image's root.
func TestAppendClean(t *testing.T) {
	for _, name := range []string{"", ".", "./", "/", "//", "a", "a/", "a//b/", "/./a/.", "a/./b", "./usr/share/d1/f2",
		"..a/b..", "...", "a/.../b", ".wh.x", "./etc/.wh..wh..opq", strings.Repeat("d/", 100) + "f"} {
		got, err := appendClean([]byte("keep"), []byte(name))
		if want := "keep" + path.Clean("/"+name); err != nil || string(got) != want {
			t.Errorf("%q: got %q, %v; want %q", name, got, err, want)
		}
	}
}
