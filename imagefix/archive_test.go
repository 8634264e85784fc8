package imagefix

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestWriteArchiveHoldsTheFixedImageWithoutNames(t *testing.T) {
	dir := writeLayout(t, testLayer{tar: layerTar(t, baseEntries)}, testLayer{tar: layerTar(t, buildEntries), gzip: true})
	if _, err := Fix(dir, Options{BaseLayers: -1}); err != nil {
		t.Fatal(err)
	}
	man, _, _ := readImage(t, dir)
	var buf bytes.Buffer
	if err := WriteArchive(dir, &buf); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	tr := tar.NewReader(&buf)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names[hdr.Name] = true
		if hdr.Name == "index.json" {
			data, _ := io.ReadAll(tr)
			var idx v1.Index
			json.Unmarshal(data, &idx)
			if len(idx.Manifests) != 1 || idx.Manifests[0].Annotations[v1.AnnotationRefName] != "" {
				t.Errorf("index.json in the archive: %s", data)
			}
		}
	}
	for _, d := range append(man.Layers, man.Config) {
		if !names["blobs/sha256/"+d.Digest.Encoded()] {
			t.Errorf("archive lacks blob %s", d.Digest)
		}
	}
	// 2 dirs, oci-layout, index.json, manifest, config, 2 layers: the old
	// build layer, config and manifest stay out.
	if len(names) != 8 {
		t.Errorf("archive holds %d files, want 8: %s", len(names), strings.Join(keys(names), " "))
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
