package imagestore

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// ImageLayout is an image of the store written as an OCI image layout
// whose layer blobs are left out: OpenBlob makes them from the store's
// layers (OpenLayerTar).
type ImageLayout struct {
	store  Store
	layers map[digest.Digest]string // diff digest -> layer id
	// Config is the image's config descriptor (its digest is the ID).
	Config v1.Descriptor
	// Layers are the manifest's layer descriptors, bottom first.
	Layers []v1.Descriptor
}

// WriteImageLayout writes image id into dir (an empty private directory)
// as an OCI image layout: oci-layout, index.json, the config as the store
// keeps it (its digest checked against the ID) and a manifest naming each
// layer by its uncompressed digest and size (layers.json's diff-digest and
// diff-size, which must be the config's diff_ids), as `podman save
// --format oci-dir` names them. The layer blobs are not written.
func (s Store) WriteImageLayout(id, dir string) (*ImageLayout, error) {
	d := digest.NewDigestFromEncoded(digest.SHA256, id)
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("image id %q: %w", id, err)
	}
	im, err := s.image(id)
	if err != nil {
		return nil, err
	}
	config, err := s.bigData(id, d.String())
	if err != nil {
		return nil, fmt.Errorf("image %s: config: %w", id, err)
	}
	if digest.SHA256.FromBytes(config) != d {
		return nil, fmt.Errorf("image %s: the stored config does not match the image ID", id)
	}
	var cfg v1.Image
	if err := json.Unmarshal(config, &cfg); err != nil {
		return nil, fmt.Errorf("image %s: config: %w", id, err)
	}
	all, err := s.Layers()
	if err != nil {
		return nil, err
	}
	chain, err := Chain(all, im.Layer)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", id, err)
	}
	if len(chain) != len(cfg.RootFS.DiffIDs) {
		return nil, fmt.Errorf("image %s: %d layers in the store, %d diff_ids in the config", id, len(chain), len(cfg.RootFS.DiffIDs))
	}
	il := &ImageLayout{store: s, layers: map[digest.Digest]string{},
		Config: v1.Descriptor{MediaType: v1.MediaTypeImageConfig, Digest: d, Size: int64(len(config))}}
	for i, lid := range chain {
		l := all[lid]
		if l.DiffDigest != cfg.RootFS.DiffIDs[i].String() || l.DiffSize <= 0 {
			return nil, fmt.Errorf("image %s: layer %d (%s): layers.json's diff-digest %q (size %d) is not the config's diff_id %s",
				id, i, lid, l.DiffDigest, l.DiffSize, cfg.RootFS.DiffIDs[i])
		}
		il.layers[cfg.RootFS.DiffIDs[i]] = lid
		il.Layers = append(il.Layers, v1.Descriptor{MediaType: v1.MediaTypeImageLayer, Digest: cfg.RootFS.DiffIDs[i], Size: l.DiffSize})
	}
	man := v1.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageManifest,
		Config: il.Config, Layers: il.Layers, Annotations: s.manifestAnnotations(id)}
	if err := il.write(dir, config, man); err != nil {
		return nil, fmt.Errorf("image %s: write its layout: %w", id, err)
	}
	return il, nil
}

// write writes the layout's files but the layer blobs.
func (il *ImageLayout) write(dir string, config []byte, man v1.Manifest) error {
	manJSON, err := json.Marshal(man)
	if err != nil {
		return err
	}
	md := digest.SHA256.FromBytes(manJSON)
	idx, err := json.Marshal(v1.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageIndex,
		Manifests: []v1.Descriptor{{MediaType: v1.MediaTypeImageManifest, Digest: md, Size: int64(len(manJSON))}}})
	if err != nil {
		return err
	}
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{filepath.Join(blobs, il.Config.Digest.Encoded()), config},
		{filepath.Join(blobs, md.Encoded()), manJSON},
		{filepath.Join(dir, v1.ImageLayoutFile), []byte(`{"imageLayoutVersion":"` + v1.ImageLayoutVersion + `"}`)},
		{filepath.Join(dir, "index.json"), idx},
	}
	for _, f := range files {
		if err := os.WriteFile(f.name, f.data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// OpenBlob opens the layer blob d (an uncompressed tar): with bodies
// false, its file bodies are zeros (see OpenLayerTar). A digest that is no
// layer of the image is fs.ErrNotExist.
func (il *ImageLayout) OpenBlob(d digest.Digest, bodies bool) (io.ReadCloser, error) {
	lid, ok := il.layers[d]
	if !ok {
		return nil, fmt.Errorf("blob %s: %w", d, fs.ErrNotExist)
	}
	return il.store.OpenLayerTar(lid, bodies)
}

// manifestAnnotations are the annotations of the image's stored manifest
// when it is an OCI manifest, which podman save keeps; none otherwise.
func (s Store) manifestAnnotations(id string) map[string]string {
	data, err := s.bigData(id, "manifest")
	if err != nil {
		return nil
	}
	var m v1.Manifest
	if json.Unmarshal(data, &m) != nil || m.MediaType != v1.MediaTypeImageManifest {
		return nil
	}
	return m.Annotations
}

// bigData reads one of an image's big-data items, which containers/storage
// keeps in <graphroot>/<driver>-images/<id>/<name>: the key itself when it
// is made of [.0-9a-z], else "=" and its base64 (images.go,
// makeBigDataBaseName).
func (s Store) bigData(id, key string) ([]byte, error) {
	if !validID(id) {
		return nil, fmt.Errorf("bad image id %q", id)
	}
	name := key
	for _, c := range key {
		if c != '.' && !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') {
			name = "=" + base64.StdEncoding.EncodeToString([]byte(key))
			break
		}
	}
	f, err := os.Open(filepath.Join(s.dir("images"), id, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJSON+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxJSON {
		return nil, fmt.Errorf("%s: more than %d bytes", key, maxJSON)
	}
	return data, nil
}
