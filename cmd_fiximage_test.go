package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The names podman load prints: an OCI directory is named after its path,
// an archive without a name by its ID.
func TestLoadedName(t *testing.T) {
	cases := []struct {
		out, want string
	}{
		{"Loaded image: localhost/tmp/remainroot-fix-image-123/store:latest\n", "localhost/tmp/remainroot-fix-image-123/store:latest"},
		{"Getting image source signatures\nLoaded image(s): localhost/tmp/x/store\n", "localhost/tmp/x/store"},
		{"Loaded image: localhost/a\nLoaded image: localhost/b\n", "localhost/a"},
		{"Writing manifest to image destination\n", ""},
	}
	for _, c := range cases {
		got := ""
		if m := loadedName.FindStringSubmatch(c.out); m != nil {
			got = m[1]
		}
		if got != c.want {
			t.Errorf("%q: got %q, want %q", c.out, got, c.want)
		}
	}
}

// podman load names an OCI directory "localhost" + its path, which must be
// a valid image name.
func TestLoadableName(t *testing.T) {
	good, err := os.MkdirTemp("/tmp", "remainroot-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(good)
	upper := filepath.Join(good, "Upper")
	link := filepath.Join(good, "link")
	os.Mkdir(upper, 0o700)
	os.Symlink(upper, link)
	long := filepath.Join(good, strings.Repeat("a", 240))
	os.Mkdir(long, 0o700)
	cases := []struct {
		dir  string
		want bool
	}{
		{good, true},
		{upper, false},
		{link, false}, // resolves to Upper
		{filepath.Join(good, "missing"), false},
		{long, false},
		{"relative", false},
	}
	for _, c := range cases {
		if got := loadableName(c.dir); got != c.want {
			t.Errorf("%s: got %v, want %v", c.dir, got, c.want)
		}
	}
	for name, want := range map[string]bool{
		"localhost/tmp/remainroot-fix-image-1/store": true,
		"localhost/tmp/a__b/c.d/store":               true,
		"localhost/tmp/.x/store":                     false,
		"localhost/tmp/a--b_/store":                  false,
		"localhost/tmp//store":                       false,
	} {
		if got := referenceName.MatchString(name); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
}
