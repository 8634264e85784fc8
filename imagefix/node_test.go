package imagefix

import (
	"archive/tar"
	"testing"
)

// A mode full build's device nodes: empty regular files with a node
// record ('c' or 'b', major and minor as little-endian 32-bit integers).
var nodeEntries = []testEntry{
	{name: "opt/dev/", typ: tar.TypeDir},
	{name: "opt/dev/mydev", mode: 0o640, record: []byte{0x08, 0x00, 0x10, 0x05}, node: "c\x04\x00\x00\x00\x05\x00\x00\x00"},
	{name: "opt/dev/disk", mode: 0o600, record: []byte{0x08, 0x00, 0x10, 0x00}, node: "b\x08\x00\x00\x00\x01\x00\x00\x00"},
	{name: "opt/dev/plain", body: "not a node"},
	{name: "opt/dev/link", typ: tar.TypeLink, linkname: "opt/dev/mydev", node: "c\x04\x00\x00\x00\x05\x00\x00\x00"},
	{name: "opt/dev/written", body: "written to", node: "c\x01\x00\x00\x00\x03\x00\x00\x00"},
}

func TestFixMakesDeviceNodes(t *testing.T) {
	dir := writeLayout(t, testLayer{tar: layerTar(t, baseEntries)}, testLayer{tar: layerTar(t, nodeEntries)})
	rep, err := Fix(dir, Options{BaseLayers: -1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Images[0].EntriesFixed != 4 {
		t.Errorf("%d entries fixed, want 4", rep.Images[0].EntriesFixed)
	}
	_, _, tars := readImage(t, dir)
	hdrs := tarHeaders(t, tars[1])
	for _, want := range []struct {
		name         string
		typ          byte
		major, minor int64
		gid          int
		mode         int64
	}{{"opt/dev/mydev", tar.TypeChar, 4, 5, 5, 0o640}, {"opt/dev/disk", tar.TypeBlock, 8, 1, 0, 0o600}} {
		h := hdrs[want.name]
		if h == nil {
			t.Fatalf("%s missing", want.name)
		}
		if h.Typeflag != want.typ || h.Devmajor != want.major || h.Devminor != want.minor || h.Size != 0 {
			t.Errorf("%s: type %c %d,%d size %d; want %c %d,%d", want.name, h.Typeflag, h.Devmajor, h.Devminor, h.Size,
				want.typ, want.major, want.minor)
		}
		if h.Uid != 0 || h.Gid != want.gid || h.Mode&0o7777 != want.mode {
			t.Errorf("%s: %d:%d %o, want 0:%d %o", want.name, h.Uid, h.Gid, h.Mode, want.gid, want.mode)
		}
		if _, ok := h.PAXRecords[nodeRecordKey]; ok {
			t.Errorf("%s keeps its node record", want.name)
		}
	}
	// A hard link stays a link (to the device) and a node written to
	// stays the regular file the container saw; both lose the record.
	for name, typ := range map[string]byte{"opt/dev/plain": tar.TypeReg, "opt/dev/link": tar.TypeLink, "opt/dev/written": tar.TypeReg} {
		h := hdrs[name]
		if _, ok := h.PAXRecords[nodeRecordKey]; h.Typeflag != typ || ok {
			t.Errorf("%s: type %c, record %v; want type %c without a record", name, h.Typeflag, ok, typ)
		}
	}
}

func TestFixRefusesForgedNodeRecords(t *testing.T) {
	base := layerTar(t, baseEntries)
	for _, c := range []struct {
		name  string
		entry testEntry
		want  string
	}{
		{"on a directory", testEntry{name: "d/", typ: tar.TypeDir, node: "c\x04\x00\x00\x00\x05\x00\x00\x00"}, "not a regular file"},
		{"on a symlink", testEntry{name: "l", typ: tar.TypeSymlink, linkname: "f", node: "c\x04\x00\x00\x00\x05\x00\x00\x00"}, "not a regular file"},
		{"too short", testEntry{name: "f", node: "c\x04"}, "bad " + NodeXattr},
		{"unknown type", testEntry{name: "f", node: "p\x04\x00\x00\x00\x05\x00\x00\x00"}, "bad " + NodeXattr},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeLayout(t, testLayer{tar: base}, testLayer{tar: layerTar(t, []testEntry{c.entry})})
			requireRefused(t, dir, c.want)
		})
	}
}
