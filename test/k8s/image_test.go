package k8s

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"testing"
)

// ociArchive writes to out an OCI image archive (what `ctr images import`
// takes, no registry needed) named name, of one layer: the root
// filesystem tar rootfs, every owner made 0:0 when squash is set, with
// entrypoint.
//
// squash does what podman's ignore_chown_errors does at pull: under the
// overlayfs snapshotter containerd idmaps a user-namespace pod's layers,
// and through a mapping of one id a file owned by any other host id
// (/etc/shadow's group shadow) is unreadable even by the pod's root: the
// kernel checks the mounter's credentials on the idmapped layer too.
func ociArchive(t *testing.T, out, rootfs, name string, entrypoint []string, squash bool) {
	t.Helper()
	layer, err := layerBlob(rootfs, squash)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mustJSON(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Entrypoint": entrypoint, "Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{digest(layer)}},
	})
	manifest := mustJSON(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(cfg), "size": len(cfg)},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(layer), "size": len(layer)}},
	})
	index := mustJSON(map[string]any{
		"schemaVersion": 2,
		"manifests": []any{map[string]any{
			"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(manifest), "size": len(manifest),
			"annotations": map[string]string{"io.containerd.image.name": name, "org.opencontainers.image.ref.name": name},
		}},
	})
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	files := []struct {
		name string
		data []byte
	}{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", index},
		{"blobs/sha256/" + digest(layer)[len("sha256:"):], layer},
		{"blobs/sha256/" + digest(cfg)[len("sha256:"):], cfg},
		{"blobs/sha256/" + digest(manifest)[len("sha256:"):], manifest},
	}
	for _, e := range files {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

// layerBlob is rootfs as a layer, its owners 0:0 when squash is set.
func layerBlob(rootfs string, squash bool) ([]byte, error) {
	if !squash {
		return os.ReadFile(rootfs)
	}
	in, err := os.Open(rootfs)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	var buf sliceWriter
	tr, tw := tar.NewReader(in), tar.NewWriter(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rootfs, err)
		}
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return []byte(buf), nil
}

type sliceWriter []byte

func (w *sliceWriter) Write(p []byte) (int, error) {
	*w = append(*w, p...)
	return len(p), nil
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
