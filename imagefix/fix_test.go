package imagefix

import (
	"archive/tar"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// The base image: real owners, as a registry or `podman import` has them.
var baseEntries = []testEntry{
	{name: "etc/", typ: tar.TypeDir},
	{name: "etc/shadow", gid: 42, mode: 0o640, body: "root:*:1::::::\n"},
	{name: "etc/passwd", body: "root:x:0:0::/root:/bin/sh\n"},
	{name: "var/mail/", typ: tar.TypeDir, gid: 8, mode: 0o2775},
	{name: "var/mail/old", uid: 7, gid: 8},
	{name: "srv/", typ: tar.TypeDir, uid: 33, gid: 33},
	{name: "srv/www", typ: tar.TypeDir, uid: 33, gid: 33},
	{name: "srv/www/index.html", uid: 33, gid: 33, body: "hi"},
	{name: "opt/", typ: tar.TypeDir},
}

// A mode full build's layer: every tar owner 0:0, the owners in records.
var buildEntries = []testEntry{
	{name: "etc/", typ: tar.TypeDir},
	{name: "etc/shadow", mode: 0o640, body: "root:*:1::::::\napp:!:1::::::\n"}, // modified: keeps 0:42
	{name: "etc/passwd", body: "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"},
	{name: "home/app/", typ: tar.TypeDir, record: record(1000, 1000)},
	{name: "home/app/.bashrc", record: record(1000, 1000), body: "# bash\n"},
	{name: "data/", typ: tar.TypeDir, record: record(1000, 1000)},
	{name: "data/f", mode: 0o600, record: record(1000, 1000)},
	{name: "data/hard", typ: tar.TypeLink, linkname: "data/f"},
	{name: "opt/", typ: tar.TypeDir, record: record(1234, 5678)},
	{name: "srv/www/", typ: tar.TypeDir},                                                  // a lower dir RUN touched: keeps 33:33
	{name: "srv/www/new", record: []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x10, 0x05}}, // uid unchanged, gid 5
	{name: "var/mail/.wh.old"},
	{name: "var/mail/old"}, // re-created after the whiteout? no: a new file's owner is its own
}

func TestFixAppliesRecordsAndKeepsBaseOwners(t *testing.T) {
	base := layerTar(t, baseEntries)
	build := layerTar(t, buildEntries[:len(buildEntries)-1])
	dir := writeLayout(t, testLayer{tar: base}, testLayer{tar: build, gzip: true})
	manBefore, _, _ := readImage(t, dir)
	baseBlob, _ := os.ReadFile(filepath.Join(dir, "blobs", "sha256", manBefore.Layers[0].Digest.Encoded()))

	rep, err := Fix(dir, Options{BaseLayers: -1})
	if err != nil {
		t.Fatal(err)
	}
	man, cfg, tars := readImage(t, dir)
	if len(rep.Images) != 1 || rep.Images[0].BaseLayers != 1 || fmt.Sprint(rep.Images[0].Rewritten) != "[1]" {
		t.Fatalf("report %+v: want layer 1 rewritten above 1 base layer", rep)
	}
	// The base layer is the same blob, byte for byte.
	if man.Layers[0].Digest != manBefore.Layers[0].Digest || cfg.RootFS.DiffIDs[0] != digest.FromBytes(base) {
		t.Errorf("base layer changed: %s -> %s", manBefore.Layers[0].Digest, man.Layers[0].Digest)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "blobs", "sha256", man.Layers[0].Digest.Encoded())); string(after) != string(baseBlob) {
		t.Error("base layer blob's bytes changed")
	}
	// The build layer: new digest, diff_id of its tar, still gzip.
	if man.Layers[1].Digest == manBefore.Layers[1].Digest || man.Layers[1].MediaType != manBefore.Layers[1].MediaType {
		t.Errorf("build layer: %+v, want a new gzip blob", man.Layers[1])
	}
	for i, tr := range tars {
		if cfg.RootFS.DiffIDs[i] != digest.FromBytes(tr) {
			t.Errorf("diff_id %d is %s, its tar's digest %s", i, cfg.RootFS.DiffIDs[i], digest.FromBytes(tr))
		}
	}
	if len(cfg.History) != 2 {
		t.Errorf("history has %d entries, want 2", len(cfg.History))
	}

	want := map[string]string{
		"etc/shadow": "0:42 640", "etc/passwd": "0:0 644",
		"home/app/": "1000:1000 755", "home/app/.bashrc": "1000:1000 644",
		"data/": "1000:1000 755", "data/f": "1000:1000 600", "data/hard": "1000:1000 644",
		"opt/": "1234:5678 755", "srv/www/": "33:33 755", "srv/www/new": "0:5 644",
		"var/mail/.wh.old": "0:0 644",
	}
	hdrs := tarHeaders(t, tars[1])
	for name, w := range want {
		h := hdrs[name]
		if h == nil {
			t.Errorf("%s missing", name)
			continue
		}
		if got := fmt.Sprintf("%d:%d %o", h.Uid, h.Gid, h.Mode); got != w {
			t.Errorf("%s: %s, want %s", name, got, w)
		}
		if _, ok := h.PAXRecords[ownerRecordKey]; ok {
			t.Errorf("%s still carries %s", name, ownerRecordKey)
		}
		if _, ok := h.Xattrs[OwnerXattr]; ok { //nolint:staticcheck
			t.Errorf("%s still carries the xattr", name)
		}
	}
	if h := hdrs["data/f"]; h.Uname != "" || h.Gname != "" {
		t.Errorf("data/f: uname %q gname %q, want empty", h.Uname, h.Gname)
	}
	if h := hdrs["etc/passwd"]; h.Uname != "root" {
		t.Errorf("etc/passwd (unchanged) lost its uname: %q", h.Uname)
	}
}

func TestFixWhiteoutForgetsLowerOwner(t *testing.T) {
	base := layerTar(t, baseEntries)
	build := layerTar(t, []testEntry{
		{name: "data", typ: tar.TypeDir, record: record(1, 1)},
		{name: "srv/.wh..wh..opq"},
		{name: "srv/www/", typ: tar.TypeDir}, // re-created under an opaque srv: root's
		{name: "var/mail/.wh.old"},
	})
	top := layerTar(t, []testEntry{{name: "var/mail/old"}, {name: "x", record: record(2, 2)}})
	dir := writeLayout(t, testLayer{tar: base}, testLayer{tar: build}, testLayer{tar: top})
	if _, err := Fix(dir, Options{BaseLayers: -1}); err != nil {
		t.Fatal(err)
	}
	_, _, tars := readImage(t, dir)
	if h := tarHeaders(t, tars[1])["srv/www/"]; h.Uid != 0 {
		t.Errorf("srv/www/ under an opaque whiteout: %d:%d, want 0:0", h.Uid, h.Gid)
	}
	if h := tarHeaders(t, tars[2])["var/mail/old"]; h.Uid != 0 || h.Gid != 0 {
		t.Errorf("var/mail/old after its whiteout: %d:%d, want 0:0", h.Uid, h.Gid)
	}
}

func TestFixLeavesImageWithoutRecords(t *testing.T) {
	base := layerTar(t, baseEntries)
	plain := layerTar(t, []testEntry{{name: "etc/shadow", mode: 0o640}})
	dir := writeLayout(t, testLayer{tar: base}, testLayer{tar: plain, gzip: true})
	before, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	rep, err := Fix(dir, Options{BaseLayers: -1})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if string(before) != string(after) || rep.Images[0].New != rep.Images[0].Old {
		t.Errorf("an image without records changed (report %+v)", rep)
	}
	// With the build layers named, the modified file keeps its owner.
	if rep, err = Fix(dir, Options{BaseLayers: 1}); err != nil || len(rep.Images[0].Rewritten) != 1 {
		t.Fatalf("--base-layers 1: %+v %v", rep, err)
	}
	_, _, tars := readImage(t, dir)
	if h := tarHeaders(t, tars[1])["etc/shadow"]; h.Gid != 42 {
		t.Errorf("etc/shadow: %d:%d, want 0:42", h.Uid, h.Gid)
	}
}

func TestFixIsIdempotent(t *testing.T) {
	dir := writeLayout(t, testLayer{tar: layerTar(t, baseEntries)}, testLayer{tar: layerTar(t, buildEntries), gzip: true})
	if _, err := Fix(dir, Options{BaseLayers: -1}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	rep, err := Fix(dir, Options{BaseLayers: -1})
	after, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil || string(before) != string(after) {
		t.Errorf("a second fix changed the layout (%+v, %v)", rep, err)
	}
}

func TestLayersBeforeFromHistory(t *testing.T) {
	at := func(s int) *time.Time { v := time.Unix(int64(s), 0); return &v }
	h := []v1.History{{Created: at(10)}, {Created: at(20), EmptyLayer: true}, {Created: at(100)}, {Created: at(101)}}
	for _, c := range []struct {
		layers int
		since  int64
		want   int
	}{{3, 50, 1}, {3, 5, 0}, {3, 200, 3}, {2, 50, -1}} {
		if got := layersBefore(h, c.layers, time.Unix(c.since, 0)); got != c.want {
			t.Errorf("%d layers since %d: %d, want %d", c.layers, c.since, got, c.want)
		}
	}
	if got := layersBefore([]v1.History{{Created: at(100)}, {Created: at(10)}}, 2, time.Unix(50, 0)); got != -1 {
		t.Errorf("an old layer above a new one: %d, want -1", got)
	}
}

// A base image whose top layer is all 0:0 (as many are) and overwrites a
// file a lower layer gives another owner: with the build's start time that
// layer is a base layer and stays as it is; the automatic rule would take
// it for a build layer.
func TestFixBuiltSinceKeepsAllRootBaseLayers(t *testing.T) {
	old, now := time.Unix(1000, 0), time.Unix(5000, 0)
	base := layerTar(t, baseEntries)
	baseTop := layerTar(t, []testEntry{{name: "var/mail/old", mode: 0o600}}) // 7:8 below, root's from here on
	build := layerTar(t, []testEntry{{name: "data", typ: tar.TypeDir, record: record(1000, 1000)}})
	layers := []testLayer{{tar: base, created: old}, {tar: baseTop, created: old}, {tar: build, created: now.Add(time.Second)}}

	dir := writeLayout(t, layers...)
	rep, err := Fix(dir, Options{BaseLayers: -1, BuiltSince: now})
	if err != nil || rep.Images[0].BaseLayers != 2 || fmt.Sprint(rep.Images[0].Rewritten) != "[2]" {
		t.Fatalf("with BuiltSince: %+v %v, want 2 base layers and layer 2 rewritten", rep, err)
	}
	_, _, tars := readImage(t, dir)
	if string(tars[1]) != string(baseTop) {
		t.Error("the base image's all-root top layer changed")
	}

	dir = writeLayout(t, layers...)
	if rep, err = Fix(dir, Options{BaseLayers: -1}); err != nil || rep.Images[0].BaseLayers != 1 {
		t.Fatalf("automatic: %+v %v, want 1 base layer", rep, err)
	}
}
