package imagestore

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
)

// tarOf writes hdrs as a tar archive, each regular file with Size bytes.
func tarOf(t testing.TB, hdrs []*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("tar header %s: %v", h.Name, err)
		}
		if h.Typeflag == tar.TypeReg && h.Size > 0 {
			if _, err := tw.Write(bytes.Repeat([]byte{'x'}, int(h.Size))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarSplitOf is the tar-split file containers/storage keeps for a layer
// made of hdrs (gzip-compressed JSON lines), made by tar-split itself.
func tarSplitOf(t testing.TB, hdrs []*tar.Header) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	r, err := asm.NewInputTarStream(bytes.NewReader(tarOf(t, hdrs)), storage.NewJSONPacker(zw), storage.NewDiscardFilePutter())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// mergeLayers merges layers, lowest first, as Store.Owners does.
func mergeLayers(layers ...func(func(*header) error) error) (Table, error) {
	m := newMerger()
	for i, read := range layers {
		if err := m.addLayer(read); err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
	}
	return m.table(), nil
}

// layer is a mergeLayers argument made of headers.
func layer(hdrs ...*tar.Header) func(func(*header) error) error {
	return func(fn func(*header) error) error {
		for _, h := range hdrs {
			if err := fn(headerOf(h)); err != nil {
				return err
			}
		}
		return nil
	}
}

// Header makers: a file, a directory, a hard link, a symlink.
func file(name string, uid, gid int, mode int64) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeReg, Name: name, Uid: uid, Gid: gid, Mode: mode, Size: 3}
}

func dir(name string, uid, gid int, mode int64) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeDir, Name: name, Uid: uid, Gid: gid, Mode: mode}
}

func hardlink(name, target string, uid, gid int, mode int64) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Uid: uid, Gid: gid, Mode: mode}
}

func symlink(name, target string) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func stringsReader(s string) io.Reader { return strings.NewReader(s) }
