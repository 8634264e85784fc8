package imagefix

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every hostile or broken layout ends in one error, on one line, with
// index.json as it was.
func TestFixRefusesHostileLayers(t *testing.T) {
	base := layerTar(t, baseEntries)
	build := func(entries ...testEntry) []byte { return layerTar(t, entries) }
	good := build(testEntry{name: "data", typ: tar.TypeDir, record: record(1000, 1000)})
	goodGz := gzipBytes(t, good)
	withBody := build(testEntry{name: "f", record: record(1, 1), body: strings.Repeat("z", 3000)})
	cases := []struct {
		name  string
		layer testLayer
		want  string
	}{
		{"dotdot", testLayer{tar: build(testEntry{name: "../../etc/passwd", record: record(1, 1)})}, "climbs out of the root"},
		{"dotdot inside", testLayer{tar: build(testEntry{name: "a/../../x", record: record(1, 1)})}, "climbs out of the root"},
		{"absolute", testLayer{tar: build(testEntry{name: "/etc/passwd", record: record(1, 1)})}, "absolute path"},
		{"long", testLayer{tar: build(testEntry{name: strings.Repeat("a/", 3000) + "f", record: record(1, 1)})}, "more than 4096"},
		{"hardlink out", testLayer{tar: build(testEntry{name: "d", record: record(1, 1)},
			testEntry{name: "l", typ: tar.TypeLink, linkname: "../../etc/shadow"})}, "hardlink to path"},
		{"bad varint", testLayer{tar: build(testEntry{name: "f", record: []byte{0x08, 0xff}})}, "bad user.rootlesscontainers record"},
		{"bad wire type", testLayer{tar: build(testEntry{name: "f", record: []byte{0x0f}})}, "bad user.rootlesscontainers record"},
		{"long record", testLayer{tar: build(testEntry{name: "f", record: bytes.Repeat([]byte{0x08, 0x01}, 100)})}, "bad user.rootlesscontainers record"},
		{"truncated tar", testLayer{tar: withBody, blob: withBody[:2000]}, "unexpected EOF"},
		{"truncated gzip", testLayer{tar: good, gzip: true, blob: goodGz[:len(goodGz)-10]}, "unexpected EOF"},
		{"not gzip", testLayer{tar: good, gzip: true, blob: good}, "gzip: invalid header"},
		{"diff_id mismatch", testLayer{tar: base, blob: good}, "does not match the config's diff_id"},
		{"garbage tar", testLayer{tar: good, blob: bytes.Repeat([]byte("x"), 2048)}, "invalid tar header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeLayout(t, testLayer{tar: base}, c.layer)
			requireRefused(t, dir, c.want)
		})
	}
}

// requireRefused runs Fix on dir and wants an error holding want, on one
// line, with index.json unchanged and no temporary file left.
func requireRefused(t *testing.T, dir, want string) {
	t.Helper()
	before, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	_, err := Fix(dir, Options{BaseLayers: -1})
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one with %q", err, want)
	}
	if strings.ContainsAny(err.Error(), "\n\r") || len(err.Error()) > 600 {
		t.Errorf("error is not one short line: %q", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if string(before) != string(after) {
		t.Error("index.json changed")
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, "blobs", "sha256", ".remainroot-tmp-*"))
	if len(tmps) > 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
	t.Logf("refused: %v", err)
}

func TestFixRefusesBlobsThatLie(t *testing.T) {
	base := layerTar(t, baseEntries)
	build := layerTar(t, []testEntry{{name: "data", typ: tar.TypeDir, record: record(1000, 1000)}})
	t.Run("digest mismatch", func(t *testing.T) {
		dir := writeLayout(t, testLayer{tar: base}, testLayer{tar: build})
		man, _, _ := readImage(t, dir)
		p := filepath.Join(dir, "blobs", "sha256", man.Layers[1].Digest.Encoded())
		other := layerTar(t, []testEntry{{name: "data", typ: tar.TypeDir, record: record(1, 1)}})
		if err := os.WriteFile(p, other, 0o644); err != nil {
			t.Fatal(err)
		}
		requireRefused(t, dir, "does not match its digest")
	})
	t.Run("blob symlink out of the layout", func(t *testing.T) {
		dir := writeLayout(t, testLayer{tar: base}, testLayer{tar: build})
		man, _, _ := readImage(t, dir)
		p := filepath.Join(dir, "blobs", "sha256", man.Layers[1].Digest.Encoded())
		os.Remove(p)
		if err := os.Symlink("/etc/passwd", p); err != nil {
			t.Fatal(err)
		}
		requireRefused(t, dir, "escapes")
	})
	t.Run("digest climbing out", func(t *testing.T) {
		dir := writeLayout(t, testLayer{tar: base}, testLayer{tar: build})
		data, _ := os.ReadFile(filepath.Join(dir, "index.json"))
		idx := strings.Replace(string(data), `"digest":"sha256:`, `"digest":"sha256:../../../../etc/`, 1)
		os.WriteFile(filepath.Join(dir, "index.json"), []byte(idx), 0o644)
		requireRefused(t, dir, "invalid checksum digest")
	})
}

// A million entries is a large layer, not a hostile one: it is fixed.
func TestFixMillionEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755, Format: tar.FormatPAX,
		PAXRecords: map[string]string{ownerRecordKey: string(record(5, 5))}})
	for i := range 1_000_000 {
		hdr := &tar.Header{Name: "d/" + strings.Repeat("x", i%7) + itoa(i), Typeflag: tar.TypeReg, Mode: 0o644}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	dir := writeLayout(t, testLayer{tar: layerTar(t, baseEntries)}, testLayer{tar: buf.Bytes()})
	start := time.Now()
	rep, err := Fix(dir, Options{BaseLayers: -1})
	t.Logf("fixed %d entries in %s", 1_000_001, time.Since(start))
	if err != nil || rep.Images[0].EntriesFixed != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		if i /= 10; i == 0 {
			return string(b[n:])
		}
	}
}
