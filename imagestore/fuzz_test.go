package imagestore

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vbatts/tar-split/tar/storage"
)

// oneLine fails t on an error of more than one line.
func oneLine(t *testing.T, err error) {
	if err != nil && strings.Contains(err.Error(), "\n") {
		t.Fatalf("a multi-line error: %q", err)
	}
}

// FuzzReadTarSplit merges one layer read from fuzzed tar-split JSON lines
// (uncompressed): an error of one line or a table, no panic, and a table
// within its bounds whose paths are clean and absolute.
func FuzzReadTarSplit(f *testing.F) {
	f.Add([]byte(`{"type":2,"payload":null,"position":0}`))
	f.Add([]byte(`{"type":1,"name":"a","size":3,"position":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		table, err := mergeLayers(func(fn func(*header) error) error {
			return readTarSplit(bytes.NewReader(data), fn)
		})
		oneLine(t, err)
		for _, e := range table {
			if c, err := cleanPath(e.Path); err != nil || c != e.Path {
				t.Fatalf("an unclean path %q in the table", e.Path)
			}
		}
	})
}

// FuzzMetadata reads fuzzed layers.json and containers.json as the store
// does and follows a container's chain of layers.
func FuzzMetadata(f *testing.F) {
	f.Add([]byte(`[{"id":"a"},{"id":"b","parent":"a"},{"id":"c","parent":"b"}]`), []byte(`[{"id":"x","layer":"c","image":"i"}]`), "x")
	f.Add([]byte(`[{"id":"a","parent":"a"}]`), []byte(`[{"id":"x","layer":"a"}]`), "x")
	f.Fuzz(func(t *testing.T, layersJSON, containersJSON []byte, id string) {
		var ls []Layer
		var cs []Container
		if json.Unmarshal(layersJSON, &ls) != nil || json.Unmarshal(containersJSON, &cs) != nil {
			return
		}
		layers, err := layerIndex(ls)
		oneLine(t, err)
		if err != nil {
			return
		}
		c, err := findContainer(cs, id)
		oneLine(t, err)
		if err != nil {
			return
		}
		chain, err := Chain(layers, layers[c.Layer].Parent)
		oneLine(t, err)
		if len(chain) > maxLayers {
			t.Fatalf("a chain of %d layers", len(chain))
		}
	})
}

// FuzzDecodeTable reads a fuzzed cached table.
func FuzzDecodeTable(f *testing.F) {
	f.Add([]byte(cacheMagic + "\nfp\n0 42 640 \"/etc/shadow\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		table, err := decodeTable(bytes.NewReader(data), "fp")
		oneLine(t, err)
		var b bytes.Buffer
		encodeTable(&b, "fp", table)
		again, err := decodeTable(&b, "fp")
		if err != nil || len(again) != len(table) {
			t.Fatalf("a decoded table does not round-trip: %v", err)
		}
	})
}

// FuzzStorePaths finds a store from fuzzed bundle and root paths: what it
// finds is inside the path it was given.
func FuzzStorePaths(f *testing.F) {
	f.Add("/home/u/.local/share/containers/storage/vfs-containers/abc/userdata")
	f.Add("/g/overlay/abc/merged")
	f.Fuzz(func(t *testing.T, p string) {
		if s, id, err := StoreOfBundle(p); err == nil && (!validID(id) || strings.Contains(s.Driver, "/")) {
			t.Fatalf("bundle %q: %v %q", p, s, id)
		}
		if s, layer, err := StoreOfRootfs(p); err == nil && (!validID(layer) || strings.Contains(s.Driver, "/")) {
			t.Fatalf("root %q: %v %q", p, s, layer)
		}
	})
}

// FuzzDecodeEntry: the fast path of a tar-split line agrees with
// encoding/json wherever both decode it, but for the whole groups of three
// bytes it skips of the first skip bytes of the payload.
func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte(`{"type":2,"payload":"AAAA","position":0}`), uint16(0))
	f.Add([]byte(`{"type":1,"name":"./a","size":3,"payload":"Gq0vV7kNaWE=","position":1}`), uint16(4))
	f.Add([]byte(`{"type":1,"name":"a\"b","size":3,"payload":null,"position":1}`), uint16(0))
	f.Add([]byte(`{"type":2,"payload":"AAAAAAAAQUJD","payload":null,"position":0}`), uint16(6))
	f.Fuzz(func(t *testing.T, line []byte, skip uint16) {
		fast, skipped, _, ok := scanEntry(line, nil, int(skip))
		var slow storage.Entry
		if !ok || json.Unmarshal(line, &slow) != nil {
			return
		}
		if skipped > int(skip) || skipped%3 != 0 || skipped > len(slow.Payload) ||
			fast.Type != slow.Type || fast.Size != slow.Size || !bytes.Equal(fast.Payload, slow.Payload[skipped:]) {
			t.Fatalf("fast %+v skipping %d of %d, encoding/json %+v", fast, skipped, skip, slow)
		}
	})
}

// FuzzMountSource reads fuzzed mountinfo.
func FuzzMountSource(f *testing.F) {
	f.Add([]byte(testMountinfo), "/var/tmp/buildah1/mnt/rootfs")
	f.Fuzz(func(t *testing.T, mountinfo []byte, point string) {
		MountSource(mountinfo, point)
	})
}

// FuzzParseBlock: the fast path of a header block agrees with archive/tar
// wherever archive/tar reads the block.
func FuzzParseBlock(f *testing.F) {
	for _, format := range []tar.Format{tar.FormatUSTAR, tar.FormatGNU} {
		var b bytes.Buffer
		tar.NewWriter(&b).WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "etc/shadow", Gid: 42, Mode: 0o640, Format: format})
		f.Add(b.Bytes()[:blockSize])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		block := make([]byte, blockSize)
		copy(block, data)
		var fast header
		if parseBlock(block, &fast) != nil {
			return
		}
		slow, err := tar.NewReader(bytes.NewReader(block)).Next()
		if err != nil {
			return
		}
		if string(fast.name) != slow.Name || string(fast.linkname) != slow.Linkname || fast.typeflag != slow.Typeflag ||
			fast.mode != slow.Mode || fast.uid != int64(slow.Uid) || fast.gid != int64(slow.Gid) {
			t.Fatalf("fast %+v\narchive/tar %+v", fast, slow)
		}
	})
}

// FuzzLayerTar makes a layer's tar from fuzzed tar-split JSON lines over a
// layer directory holding one file, "./a" (3 bytes), with and without
// bodies: an error of one line or a stream, no panic, no read outside the
// layer's directory (a file "secret" beside it is never in the stream),
// and without bodies the same length as with them.
func FuzzLayerTar(f *testing.F) {
	f.Add([]byte(`{"type":2,"payload":"","position":0}` + "\n" + `{"type":1,"name":"./a","size":3,"position":1}` + "\n"))
	f.Add([]byte(`{"type":1,"name":"../secret","size":6,"position":0}` + "\n"))
	f.Add([]byte(`{"type":1,"name":"a","size":9,"position":0}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := Store{GraphRoot: t.TempDir(), Driver: "vfs"}
		dir, _ := s.LayerDir("l")
		os.MkdirAll(dir, 0o755)
		os.MkdirAll(s.dir("layers"), 0o755)
		os.WriteFile(filepath.Join(dir, "a"), []byte("abc"), 0o644)
		os.WriteFile(filepath.Join(filepath.Dir(dir), "secret"), []byte("SECRET"), 0o644)
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(data)
		zw.Close()
		os.WriteFile(s.TarSplitPath("l"), gz.Bytes(), 0o644)
		var lengths [2]int64
		for i, bodies := range []bool{true, false} {
			r, err := s.OpenLayerTar("l", bodies)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			_, err = io.Copy(&out, io.LimitReader(r, 1<<20))
			r.Close()
			oneLine(t, err)
			if err != nil {
				return
			}
			if bytes.Contains(out.Bytes(), []byte("SECRET")) && !bytes.Contains(data, []byte("SECRET")) {
				t.Fatal("a file outside the layer's directory was read")
			}
			lengths[i] = int64(out.Len())
		}
		if lengths[0] != lengths[1] {
			t.Fatalf("%d bytes with bodies, %d without", lengths[0], lengths[1])
		}
	})
}
