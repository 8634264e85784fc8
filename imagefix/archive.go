package imagefix

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"os"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// WriteArchive writes the layout in dir to w as an oci-archive (a tar of
// the layout) holding index.json, oci-layout and the blobs the index
// references, with the index's reference names left out: `podman load`
// then names nothing and prints the image's ID, which the caller tags.
func WriteArchive(dir string, w io.Writer) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	l := layout{root: root}
	idx, raw, err := l.readIndex()
	if err != nil {
		return err
	}
	var blobs []v1.Descriptor
	for i, m := range idx.Manifests {
		delete(m.Annotations, v1.AnnotationRefName)
		idx.Manifests[i] = m
		var man v1.Manifest
		if _, err := l.readJSONBlob(m, &man); err != nil {
			return fmt.Errorf("manifest %s: %w", m.Digest, err)
		}
		blobs = append(append(blobs, m, man.Config), man.Layers...)
	}
	if err := setField(raw, "manifests", idx.Manifests); err != nil {
		return err
	}
	index, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
			return err
		}
	}
	files := map[string][]byte{v1.ImageLayoutFile: []byte(`{"imageLayoutVersion":"1.0.0"}`), "index.json": index}
	for _, name := range []string{v1.ImageLayoutFile, "index.json"} {
		if err := writeFile(tw, name, files[name]); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, b := range blobs {
		p, err := blobPath(b.Digest)
		if err != nil {
			return err
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		if err := copyBlob(l, tw, p, b); err != nil {
			return err
		}
	}
	return tw.Close()
}

func writeFile(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data))}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// copyBlob copies one blob into the archive; its size must be the
// descriptor's.
func copyBlob(l layout, tw *tar.Writer, p string, d v1.Descriptor) error {
	f, err := l.root.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := tw.WriteHeader(&tar.Header{Name: p, Mode: 0o644, Size: d.Size}); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, f, d.Size); err != nil {
		return fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	return nil
}
