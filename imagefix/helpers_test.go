package imagefix

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// testEntry is one entry of a synthetic layer.
type testEntry struct {
	name     string
	typ      byte // tar.TypeReg when 0
	uid, gid int
	mode     int64
	record   []byte // the user.rootlesscontainers value, nil for none
	node     string // the user.remainroot.node value, "" for none
	linkname string
	body     string
}

// record encodes a Resource with both fields (as remainroot writes them,
// zero fields omitted).
func record(uid, gid uint32) []byte {
	var b []byte
	if uid != 0 {
		b = append(b, 0x08)
		b = appendVarint(b, uint64(uid))
	}
	if gid != 0 {
		b = append(b, 0x10)
		b = appendVarint(b, uint64(gid))
	}
	if b == nil {
		b = []byte{}
	}
	return b
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// layerTar builds a layer tar as containers/storage writes one: PAX
// format, xattrs as SCHILY.xattr records.
func layerTar(t testing.TB, entries []testEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
			if typ == tar.TypeDir {
				mode = 0o755
			}
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Uid: e.uid, Gid: e.gid, Mode: mode,
			Linkname: e.linkname, Size: int64(len(e.body)), Format: tar.FormatPAX, Uname: "root", Gname: "root"}
		if e.record != nil {
			hdr.PAXRecords = map[string]string{ownerRecordKey: string(e.record)}
		}
		if e.node != "" {
			if hdr.PAXRecords == nil {
				hdr.PAXRecords = map[string]string{}
			}
			hdr.PAXRecords[nodeRecordKey] = e.node
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testLayer is a layer blob and its uncompressed tar.
type testLayer struct {
	tar  []byte
	gzip bool
	blob []byte // when set, the blob as it is (tar is then its diff_id's content)
	// created is the layer's history time (none when zero)
	created time.Time
}

// writeLayout writes an OCI layout with one image of layers into a new
// directory and returns it.
func writeLayout(t testing.TB, layers ...testLayer) string {
	t.Helper()
	dir := t.TempDir()
	put := func(data []byte) digest.Digest {
		d := digest.FromBytes(data)
		p := filepath.Join(dir, "blobs", "sha256", d.Encoded())
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return d
	}
	var man v1.Manifest
	man.SchemaVersion = 2
	man.MediaType = v1.MediaTypeImageManifest
	cfg := v1.Image{RootFS: v1.RootFS{Type: "layers"}}
	cfg.OS, cfg.Architecture = "linux", "amd64"
	for i, l := range layers {
		blob, mt := l.tar, v1.MediaTypeImageLayer
		if l.gzip {
			blob, mt = gzipBytes(t, l.tar), v1.MediaTypeImageLayerGzip
		}
		if l.blob != nil {
			blob = l.blob
		}
		man.Layers = append(man.Layers, v1.Descriptor{MediaType: mt, Digest: put(blob), Size: int64(len(blob))})
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(l.tar))
		h := v1.History{CreatedBy: "layer " + string(rune('0'+i))}
		if !l.created.IsZero() {
			h.Created = &l.created
		}
		cfg.History = append(cfg.History, h)
	}
	cfgData, _ := json.Marshal(cfg)
	man.Config = v1.Descriptor{MediaType: v1.MediaTypeImageConfig, Digest: put(cfgData), Size: int64(len(cfgData))}
	manData, _ := json.Marshal(man)
	idx := v1.Index{MediaType: v1.MediaTypeImageIndex, Manifests: []v1.Descriptor{{
		MediaType: v1.MediaTypeImageManifest, Digest: put(manData), Size: int64(len(manData)),
		Annotations: map[string]string{v1.AnnotationRefName: "localhost/test:latest"}}}}
	idx.SchemaVersion = 2
	idxData, _ := json.Marshal(idx)
	if err := os.WriteFile(filepath.Join(dir, "index.json"), idxData, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	return dir
}

// readImage reads the first image of a layout: manifest, config and each
// layer's uncompressed tar.
func readImage(t testing.TB, dir string) (v1.Manifest, v1.Image, [][]byte) {
	t.Helper()
	blob := func(d digest.Digest) []byte {
		data, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()))
		if err != nil {
			t.Fatal(err)
		}
		if digest.FromBytes(data) != d {
			t.Fatalf("blob %s does not match its digest", d)
		}
		return data
	}
	var idx v1.Index
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil || json.Unmarshal(data, &idx) != nil {
		t.Fatalf("index.json: %v", err)
	}
	var man v1.Manifest
	var cfg v1.Image
	if err := json.Unmarshal(blob(idx.Manifests[0].Digest), &man); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(blob(man.Config.Digest), &cfg); err != nil {
		t.Fatal(err)
	}
	var tars [][]byte
	for _, l := range man.Layers {
		data := blob(l.Digest)
		if int64(len(data)) != l.Size {
			t.Fatalf("layer %s: size %d, descriptor says %d", l.Digest, len(data), l.Size)
		}
		if l.MediaType == v1.MediaTypeImageLayerGzip {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		tars = append(tars, data)
	}
	return man, cfg, tars
}

// tarHeaders lists a tar's headers by name.
func tarHeaders(t testing.TB, data []byte) map[string]*tar.Header {
	t.Helper()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[hdr.Name] = hdr
	}
}
