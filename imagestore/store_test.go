package imagestore

import (
	"archive/tar"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fakeStore writes a vfs store with layers base <- top (top whites out
// /etc/gshadow and sets /var/mail's group) and a container on top.
func fakeStore(t *testing.T) Store {
	t.Helper()
	s := Store{GraphRoot: t.TempDir(), Driver: "vfs"}
	for _, d := range []string{"layers", "images", "containers"} {
		os.MkdirAll(s.dir(d), 0o700)
	}
	write := func(p, text string) {
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(s.dir("layers"), "layers.json"),
		`[{"id":"base","uidset":[0]},{"id":"top","parent":"base"},{"id":"ctr","parent":"top"}]`)
	write(filepath.Join(s.dir("containers"), "containers.json"), `[{"id":"c1","layer":"ctr","image":"img"}]`)
	write(filepath.Join(s.dir("images"), "images.json"), `[{"id":"img","layer":"top"}]`)
	write(s.TarSplitPath("base"), string(tarSplitOf(t, []*tar.Header{dir("./", 0, 0, 0o755),
		file("./etc/shadow", 0, 42, 0o640), file("./etc/gshadow", 0, 42, 0o640), dir("./var/mail", 0, 0, 0o2775)})))
	write(s.TarSplitPath("top"), string(tarSplitOf(t, []*tar.Header{file("./etc/.wh.gshadow", 0, 0, 0),
		dir("./var/mail", 0, 8, 0o2775)})))
	return s
}

func TestOwnersOfAStore(t *testing.T) {
	s := fakeStore(t)
	top, err := s.ContainerTopLayer("c1")
	if err != nil || top != "top" {
		t.Fatalf("container's top layer %q, %v", top, err)
	}
	if top, err := s.ImageTopLayer("img"); err != nil || top != "top" {
		t.Fatalf("image's top layer %q, %v", top, err)
	}
	if top, err := s.LayerTop("ctr"); err != nil || top != "top" {
		t.Fatalf("the container layer's image %q, %v", top, err)
	}
	want := Table{{"/etc/shadow", 0, 42, 0o640}, {"/var/mail", 0, 8, 0o2775}}
	cache := t.TempDir()
	for _, wantCached := range []bool{false, true} {
		got, cached, err := s.Owners(top, cache, slog.New(slog.DiscardHandler))
		if err != nil || cached != wantCached || !reflect.DeepEqual(got, want) {
			t.Errorf("got %v cached %v %v, want %v cached %v", got, cached, err, want, wantCached)
		}
	}
	// A layer replaced under the same id: the cache is stale.
	os.WriteFile(s.TarSplitPath("top"), tarSplitOf(t, []*tar.Header{file("./etc/.wh.shadow", 0, 0, 0)}), 0o600)
	got, cached, err := s.Owners(top, cache, slog.New(slog.DiscardHandler))
	want = Table{{"/etc/gshadow", 0, 42, 0o640}, {"/var/mail", 0, 0, 0o2775}}
	if err != nil || cached || !reflect.DeepEqual(got, want) {
		t.Errorf("after a change: %v cached %v %v", got, cached, err)
	}
}

func TestOwnersErrors(t *testing.T) {
	s := fakeStore(t)
	log := slog.New(slog.DiscardHandler)
	if _, err := s.ContainerTopLayer("nope"); err == nil {
		t.Error("an unknown container")
	}
	if _, _, err := s.Owners("", "", log); err == nil {
		t.Error("no image layer")
	}
	os.Remove(s.TarSplitPath("base"))
	if _, _, err := s.Owners("top", "", log); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("a partial pull: %v", err)
	}
	os.WriteFile(filepath.Join(s.dir("layers"), "layers.json"), []byte(`[{"id":"a","parent":"b"},{"id":"b","parent":"a"}]`), 0o600)
	if _, _, err := s.Owners("a", "", log); err == nil || !strings.Contains(err.Error(), "loop") {
		t.Errorf("a loop of layers: %v", err)
	}
	os.WriteFile(filepath.Join(s.dir("layers"), "layers.json"), []byte(`[{"id":"../x"}]`), 0o600)
	if _, err := s.Layers(); err == nil {
		t.Error("a layer id with a slash")
	}
}

func TestStorePaths(t *testing.T) {
	s, id, err := StoreOfBundle("/home/u/.local/share/containers/storage/overlay-containers/abc/userdata")
	if err != nil || s != (Store{"/home/u/.local/share/containers/storage", "overlay"}) || id != "abc" {
		t.Errorf("bundle: %v %q %v", s, id, err)
	}
	for _, bad := range []string{"/run/x/userdata", "/g/vfs-containers/abc", "/g/-containers/abc/userdata", "/g/vfs-containers/../userdata"} {
		if _, _, err := StoreOfBundle(bad); err == nil {
			t.Errorf("bundle %s: no error", bad)
		}
	}
	s, layer, err := StoreOfRootfs("/g/overlay/abc/merged")
	if err != nil || s != (Store{"/g", "overlay"}) || layer != "abc" {
		t.Errorf("overlay root: %v %q %v", s, layer, err)
	}
	s, layer, err = StoreOfRootfs("/g/vfs/dir/abc")
	if err != nil || s != (Store{"/g", "vfs"}) || layer != "abc" {
		t.Errorf("vfs root: %v %q %v", s, layer, err)
	}
	if _, _, err := StoreOfRootfs("/var/lib/x/rootfs"); err == nil {
		t.Error("another root: no error")
	}
}

// TestOwnersPerLayer: each layer's Table is cached, so an image on a
// known base reads its own layers only, and a change of a lower layer's
// tar-split makes the Tables above it stale.
func TestOwnersPerLayer(t *testing.T) {
	s := fakeStore(t)
	log := slog.New(slog.DiscardHandler)
	cache := t.TempDir()
	if _, cached, err := s.Owners("top", cache, log); err != nil || cached {
		t.Fatalf("cold: cached %v, %v", cached, err)
	}
	for _, id := range []string{"base", "top"} {
		if _, err := os.Stat(filepath.Join(cache, s.cacheName(id))); err != nil {
			t.Errorf("layer %s: %v", id, err)
		}
	}
	// Another image on base; base's tar-split made unreadable in place
	// (same inode, size and time): only the cached Table of base can be
	// used.
	os.WriteFile(filepath.Join(s.dir("layers"), "layers.json"),
		[]byte(`[{"id":"base"},{"id":"top","parent":"base"},{"id":"top2","parent":"base"}]`), 0o600)
	os.WriteFile(s.TarSplitPath("top2"), tarSplitOf(t, []*tar.Header{file("./etc/.wh.shadow", 0, 0, 0), file("./srv/a", 7, 7, 0o600)}), 0o600)
	p := s.TarSplitPath("base")
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte(strings.Repeat("x", int(st.Size()))))
	f.Close()
	os.Chtimes(p, st.ModTime(), st.ModTime())
	want := Table{{"/etc/gshadow", 0, 42, 0o640}, {"/srv/a", 7, 7, 0o600}, {"/var/mail", 0, 0, 0o2775}}
	got, cached, err := s.Owners("top2", cache, log)
	if err != nil || cached || !reflect.DeepEqual(got, want) {
		t.Errorf("on a known base: %v cached %v %v, want %v", got, cached, err, want)
	}
	if _, cached, err := s.Owners("top2", cache, log); err != nil || !cached {
		t.Errorf("again: cached %v, %v", cached, err)
	}
	// base changed: its Table and those above it are stale, and base is
	// read (and found unreadable).
	os.Chtimes(p, st.ModTime().Add(time.Second), st.ModTime().Add(time.Second))
	for _, top := range []string{"top", "top2"} {
		if _, _, err := s.Owners(top, cache, log); err == nil || !strings.Contains(err.Error(), "layer 0") {
			t.Errorf("%s after base changed: %v", top, err)
		}
	}
}
