package imagestore

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
)

// applyLayer writes layer id of store s made of hdrs (bodies from tarOf)
// as containers/storage keeps it: its tar-split and its files in the
// driver's directory; it returns the layer's tar.
func applyLayer(t *testing.T, s Store, id string, hdrs []*tar.Header) []byte {
	t.Helper()
	data := tarOf(t, hdrs)
	var split bytes.Buffer
	zw := gzip.NewWriter(&split)
	r, err := asm.NewInputTarStream(bytes.NewReader(data), storage.NewJSONPacker(zw), storage.NewDiscardFilePutter())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	os.MkdirAll(s.dir("layers"), 0o700)
	if err := os.WriteFile(s.TarSplitPath(id), split.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	dir, err := s.LayerDir(id)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			os.MkdirAll(filepath.Dir(p), 0o755)
			body, _ := io.ReadAll(tr)
			if err := os.WriteFile(p, body, os.FileMode(h.Mode)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return data
}

func TestOpenLayerTar(t *testing.T) {
	for _, driver := range []string{"vfs", "overlay"} {
		t.Run(driver, func(t *testing.T) {
			s := Store{GraphRoot: t.TempDir(), Driver: driver}
			big := file("./usr/big", 1, 2, 0o644)
			big.Size = 100_000
			locked := file("./etc/locked", 0, 0, 0) // mode 000: read as the storage's owner
			want := applyLayer(t, s, "l1", []*tar.Header{dir("./", 0, 0, 0o755), dir("./usr/", 0, 0, 0o755), big,
				locked, hardlink("./usr/big2", "./usr/big", 1, 2, 0o644), symlink("./usr/l", "/x"),
				{Typeflag: tar.TypeReg, Name: "./" + strings.Repeat("d", 120) + "/f", Size: 5, Mode: 0o644, Format: tar.FormatPAX}})
			if os.Geteuid() != 0 {
				os.Chmod(filepath.Join(s.GraphRoot, layerSub(driver, "l1"), "etc/locked"), 0o600)
			}

			r, err := s.OpenLayerTar("l1", true)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			r.Close()
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("with bodies: %d bytes, %v; want the layer's %d bytes as applied", len(got), err, len(want))
			}

			// Without bodies: the same headers, and archive/tar skips the
			// bodies by seeking.
			r, err = s.OpenLayerTar("l1", false)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if _, ok := r.(io.Seeker); !ok {
				t.Fatal("no io.Seeker without bodies")
			}
			var names []string
			tr := tar.NewReader(r)
			for {
				h, err := tr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				names = append(names, h.Name)
			}
			if len(names) != 7 || names[2] != "./usr/big" {
				t.Errorf("headers without bodies: %q", names)
			}
		})
	}
}

func layerSub(driver, id string) string {
	if driver == "vfs" {
		return filepath.Join("vfs", "dir", id)
	}
	return filepath.Join("overlay", id, "diff")
}

func TestOpenLayerTarBadInput(t *testing.T) {
	cases := []struct {
		name  string
		setup func(s Store, dir string)
		want  string
	}{
		{"a short file", func(s Store, dir string) { os.WriteFile(filepath.Join(dir, "a"), []byte("x"), 0o644) }, "shorter than its tar entry"},
		{"a missing file", func(s Store, dir string) { os.Remove(filepath.Join(dir, "a")) }, "no such file"},
		{"a directory for a file", func(s Store, dir string) {
			os.Remove(filepath.Join(dir, "a"))
			os.Mkdir(filepath.Join(dir, "a"), 0o755)
		}, "not a regular file"},
		{"a directory that leads out of the layer", func(s Store, dir string) {
			os.RemoveAll(filepath.Join(dir, "sub"))
			os.Symlink("/etc", filepath.Join(dir, "sub"))
		}, "escapes"},
		{"a FIFO for a file", func(s Store, dir string) {
			os.Remove(filepath.Join(dir, "a"))
			if err := syscall.Mkfifo(filepath.Join(dir, "a"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
		{"a symlink in the layer", func(s Store, dir string) {
			os.Remove(filepath.Join(dir, "a"))
			os.Symlink("b", filepath.Join(dir, "a"))
		}, "not a regular file"},
		{"a name that climbs", func(s Store, dir string) {
			os.WriteFile(s.TarSplitPath("l1"), gzipped(t, `{"type":1,"name":"../../../etc/hostname","size":3,"payload":null,"position":0}`+"\n"), 0o600)
		}, "no such file"},
		{"a negative size", func(s Store, dir string) {
			os.WriteFile(s.TarSplitPath("l1"), gzipped(t, `{"type":1,"name":"a","size":-3,"payload":null,"position":0}`+"\n"), 0o600)
		}, "bad size"},
		{"an unknown type", func(s Store, dir string) {
			os.WriteFile(s.TarSplitPath("l1"), gzipped(t, `{"type":7,"payload":null,"position":0}`+"\n"), 0o600)
		}, "unknown entry type"},
		{"not gzip", func(s Store, dir string) { os.WriteFile(s.TarSplitPath("l1"), []byte("{}\n"), 0o600) }, "tar-split"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := Store{GraphRoot: t.TempDir(), Driver: "vfs"}
			applyLayer(t, s, "l1", []*tar.Header{file("./a", 0, 0, 0o644), file("./b", 0, 0, 0o644), dir("./sub/", 0, 0, 0o755), file("./sub/passwd", 0, 0, 0o644)})
			dir, _ := s.LayerDir("l1")
			c.setup(s, dir)
			r, err := s.OpenLayerTar("l1", true)
			if err == nil {
				_, err = io.Copy(io.Discard, r)
				r.Close()
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v, want one line with %q", err, c.want)
			}
		})
	}
	if _, err := (Store{GraphRoot: "/g", Driver: "btrfs"}).OpenLayerTar("l1", true); err == nil {
		t.Error("btrfs: no error")
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// imageStore writes a vfs store holding an image of two layers.
func imageStore(t *testing.T) (Store, string, [2][]byte) {
	t.Helper()
	s := Store{GraphRoot: t.TempDir(), Driver: "vfs"}
	var tars [2][]byte
	tars[0] = applyLayer(t, s, "base", []*tar.Header{dir("./", 0, 0, 0o755), file("./etc/shadow", 0, 42, 0o640)})
	tars[1] = applyLayer(t, s, "top", []*tar.Header{file("./srv/a", 0, 0, 0o644)})
	d0, d1 := digest.FromBytes(tars[0]), digest.FromBytes(tars[1])
	layers, _ := json.Marshal([]map[string]any{{"id": "base", "diff-digest": d0, "diff-size": len(tars[0])},
		{"id": "top", "parent": "base", "diff-digest": d1, "diff-size": len(tars[1])}})
	os.WriteFile(filepath.Join(s.dir("layers"), "layers.json"), layers, 0o600)
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["` + d0.String() + `","` + d1.String() + `"]}}`)
	id := digest.FromBytes(config).Encoded()
	writeImage(t, s, id, "top", config)
	return s, id, tars
}

func writeImage(t *testing.T, s Store, id, top string, config []byte) {
	t.Helper()
	os.MkdirAll(filepath.Join(s.dir("images"), id), 0o700)
	images, _ := json.Marshal([]map[string]any{{"id": id, "layer": top}})
	os.WriteFile(filepath.Join(s.dir("images"), "images.json"), images, 0o600)
	name := "=" + base64.StdEncoding.EncodeToString([]byte("sha256:"+id))
	if err := os.WriteFile(filepath.Join(s.dir("images"), id, name), config, 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(s.dir("images"), id, "manifest"),
		[]byte(`{"schemaVersion":2,"mediaType":"`+v1.MediaTypeImageManifest+`","annotations":{"a":"b"}}`), 0o600)
}

func TestWriteImageLayout(t *testing.T) {
	s, id, tars := imageStore(t)
	out := t.TempDir()
	il, err := s.WriteImageLayout(id, out)
	if err != nil {
		t.Fatal(err)
	}
	var idx v1.Index
	readJSONFile(t, filepath.Join(out, "index.json"), &idx)
	if len(idx.Manifests) != 1 {
		t.Fatalf("index: %+v", idx)
	}
	var man v1.Manifest
	readJSONFile(t, filepath.Join(out, "blobs", "sha256", idx.Manifests[0].Digest.Encoded()), &man)
	if man.Config.Digest.Encoded() != id || man.Annotations["a"] != "b" || len(man.Layers) != 2 {
		t.Fatalf("manifest: %+v", man)
	}
	for i, l := range man.Layers {
		if l.MediaType != v1.MediaTypeImageLayer || l.Digest != digest.FromBytes(tars[i]) || l.Size != int64(len(tars[i])) {
			t.Errorf("layer %d: %+v", i, l)
		}
		if _, err := os.Stat(filepath.Join(out, "blobs", "sha256", l.Digest.Encoded())); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("layer %d: its blob was written (%v)", i, err)
		}
		r, err := il.OpenBlob(l.Digest, true)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(r)
		r.Close()
		if !bytes.Equal(got, tars[i]) {
			t.Errorf("layer %d: OpenBlob gives another tar", i)
		}
	}
	if _, err := il.OpenBlob(digest.FromString("x"), true); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("another blob: %v", err)
	}
}

func readJSONFile(t *testing.T, p string, v any) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func TestWriteImageLayoutRefuses(t *testing.T) {
	cases := []struct {
		name string
		edit func(s Store, id string) string // returns the id to ask for
		want string
	}{
		{"an unknown image", func(s Store, id string) string { return strings.Repeat("a", 64) }, "not in images.json"},
		{"a bad id", func(s Store, id string) string { return "../x" }, "image id"},
		{"a config that is not the id's", func(s Store, id string) string {
			name := "=" + base64.StdEncoding.EncodeToString([]byte("sha256:"+id))
			os.WriteFile(filepath.Join(s.dir("images"), id, name), []byte(`{}`), 0o600)
			return id
		}, "does not match the image ID"},
		{"no config", func(s Store, id string) string {
			os.Remove(filepath.Join(s.dir("images"), id, "="+base64.StdEncoding.EncodeToString([]byte("sha256:"+id))))
			return id
		}, "config"},
		{"a diff-digest that is not the diff_id", func(s Store, id string) string {
			os.WriteFile(filepath.Join(s.dir("layers"), "layers.json"), []byte(`[{"id":"base","diff-digest":"sha256:`+strings.Repeat("0", 64)+`","diff-size":5},{"id":"top","parent":"base"}]`), 0o600)
			return id
		}, "is not the config's diff_id"},
		{"a layer missing", func(s Store, id string) string {
			os.WriteFile(filepath.Join(s.dir("layers"), "layers.json"), []byte(`[{"id":"top","parent":"base"}]`), 0o600)
			return id
		}, "not in layers.json"},
		{"more layers than diff_ids", func(s Store, id string) string {
			os.WriteFile(filepath.Join(s.dir("layers"), "layers.json"), []byte(`[{"id":"x"},{"id":"base","parent":"x"},{"id":"top","parent":"base"}]`), 0o600)
			return id
		}, "3 layers in the store, 2 diff_ids"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, id, _ := imageStore(t)
			_, err := s.WriteImageLayout(c.edit(s, id), t.TempDir())
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v, want one line with %q", err, c.want)
			}
		})
	}
}
