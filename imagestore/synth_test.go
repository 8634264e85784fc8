package imagestore

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/vbatts/tar-split/tar/storage"
)

// writeSyntheticTarSplit writes the JSON lines of a tar-split for a layer
// of n entries (a directory every 20, regular files of 1 to 64 KiB), every
// nonRootEvery-th of them owned by 0:42, laid out as tar-split lays them
// out: a segment with the padding of the previous body and the next
// header, a file entry for the body, the end of the archive.
func writeSyntheticTarSplit(t testing.TB, w io.Writer, n, nonRootEvery int) {
	t.Helper()
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	pos, pad := 0, 0
	add := func(e storage.Entry) {
		e.Position = pos
		pos++
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("./usr/share/d%d/f%d", i/20, i), Mode: 0o644,
			Size: int64(1024 + i%64*1024)}
		if i%20 == 0 {
			h = &tar.Header{Typeflag: tar.TypeDir, Name: fmt.Sprintf("./usr/share/d%d/", i/20), Mode: 0o755}
		}
		if nonRootEvery > 0 && i%nonRootEvery == 1 {
			h.Gid = 42
		}
		var buf bytes.Buffer
		buf.Write(make([]byte, pad))
		if err := tar.NewWriter(&buf).WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		add(storage.Entry{Type: storage.SegmentType, Payload: buf.Bytes()})
		add(storage.Entry{Type: storage.FileType, Name: h.Name, Size: h.Size})
		pad = int(-h.Size & 511)
	}
	add(storage.Entry{Type: storage.SegmentType, Payload: make([]byte, pad+1024)})
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestSyntheticTarSplit(t *testing.T) {
	var b bytes.Buffer
	writeSyntheticTarSplit(t, &b, 1000, 100)
	table, err := mergeLayers(func(fn func(*header) error) error { return readTarSplit(&b, fn) })
	if err != nil {
		t.Fatal(err)
	}
	if len(table) != 10 || table[0].GID != 42 {
		t.Errorf("got %d entries: %v", len(table), table)
	}
}
