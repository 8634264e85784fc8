package imagestore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Store is a containers/storage store: its graph root and driver.
type Store struct {
	GraphRoot string
	Driver    string // vfs, overlay, ...
}

// Layer is what layers.json says of one layer.
type Layer struct {
	ID     string `json:"id"`
	Parent string `json:"parent,omitempty"`
	// DiffDigest and DiffSize are the digest and size of the layer's
	// uncompressed tar as it was applied (the config's diff_id).
	DiffDigest string `json:"diff-digest,omitempty"`
	DiffSize   int64  `json:"diff-size,omitempty"`
}

// Container is what containers.json says of one container.
type Container struct {
	ID    string `json:"id"`
	Layer string `json:"layer"`
	Image string `json:"image"`
}

// Image is what images.json says of one image.
type Image struct {
	ID    string `json:"id"`
	Layer string `json:"layer"`
}

// StoreOfBundle finds the store of a container from the bundle path podman
// gives its runtime, <graphroot>/<driver>-containers/<id>/userdata, and
// returns it with the container's id as the path has it.
func StoreOfBundle(bundle string) (Store, string, error) {
	b := filepath.Clean(bundle)
	if filepath.Base(b) != "userdata" {
		return Store{}, "", fmt.Errorf("bundle %q: not <graphroot>/<driver>-containers/<id>/userdata", bundle)
	}
	idDir := filepath.Dir(b)
	containers := filepath.Dir(idDir)
	driver, ok := strings.CutSuffix(filepath.Base(containers), "-containers")
	if !ok || driver == "" || !validID(filepath.Base(idDir)) {
		return Store{}, "", fmt.Errorf("bundle %q: not <graphroot>/<driver>-containers/<id>/userdata", bundle)
	}
	return Store{GraphRoot: filepath.Dir(containers), Driver: driver}, filepath.Base(idDir), nil
}

// StoreOfRootfs finds the store of a container from its root filesystem
// as containers/storage mounts it: <graphroot>/vfs/dir/<layer id> or
// <graphroot>/overlay/<layer id>/merged; it returns the store and the
// container's layer. Buildah's RUN containers have bundles of their own,
// but their root is the container's layer.
func StoreOfRootfs(rootfs string) (Store, string, error) {
	r := filepath.Clean(rootfs)
	if filepath.Base(r) == "merged" {
		layerDir := filepath.Dir(r)
		driverDir := filepath.Dir(layerDir)
		if filepath.Base(driverDir) == "overlay" && validID(filepath.Base(layerDir)) {
			return Store{GraphRoot: filepath.Dir(driverDir), Driver: "overlay"}, filepath.Base(layerDir), nil
		}
	}
	dirDir := filepath.Dir(r)
	driverDir := filepath.Dir(dirDir)
	if filepath.Base(dirDir) == "dir" && filepath.Base(driverDir) == "vfs" && validID(filepath.Base(r)) {
		return Store{GraphRoot: filepath.Dir(driverDir), Driver: "vfs"}, filepath.Base(r), nil
	}
	return Store{}, "", fmt.Errorf("root %q: not a vfs or overlay layer of containers/storage", rootfs)
}

// LayerTop returns the top layer of the image a container's layer was
// made on: its parent, once containers.json confirms it is a container's.
func (s Store) LayerTop(layer string) (string, error) {
	cs, err := s.containers()
	if err != nil {
		return "", err
	}
	i := slices.IndexFunc(cs, func(c Container) bool { return c.Layer == layer })
	if i < 0 {
		return "", fmt.Errorf("layer %q is no container's in containers.json", layer)
	}
	return s.ContainerTopLayer(cs[i].ID)
}

// containers reads containers.json.
func (s Store) containers() ([]Container, error) {
	var cs []Container
	err := readJSON(filepath.Join(s.dir("containers"), "containers.json"), &cs)
	return cs, err
}

func (s Store) dir(kind string) string { return filepath.Join(s.GraphRoot, s.Driver+"-"+kind) }

// TarSplitPath is where the store keeps a layer's tar headers.
func (s Store) TarSplitPath(layer string) string {
	return filepath.Join(s.dir("layers"), layer+".tar-split.gz")
}

// ContainerTopLayer returns the top layer of the image the container id
// was made from: the parent of the container's own layer.
func (s Store) ContainerTopLayer(id string) (string, error) {
	cs, err := s.containers()
	if err != nil {
		return "", err
	}
	c, err := findContainer(cs, id)
	if err != nil {
		return "", err
	}
	layers, err := s.Layers()
	if err != nil {
		return "", err
	}
	l, ok := layers[c.Layer]
	if !ok {
		return "", fmt.Errorf("container %q: layer %q is not in layers.json", id, c.Layer)
	}
	return l.Parent, nil
}

// ImageTopLayer returns the top layer of image id.
func (s Store) ImageTopLayer(id string) (string, error) {
	im, err := s.image(id)
	return im.Layer, err
}

// image reads images.json's record of image id.
func (s Store) image(id string) (Image, error) {
	var is []Image
	if err := readJSON(filepath.Join(s.dir("images"), "images.json"), &is); err != nil {
		return Image{}, err
	}
	for _, i := range is {
		if i.ID == id {
			return i, nil
		}
	}
	return Image{}, fmt.Errorf("image %q is not in images.json", id)
}

func findContainer(cs []Container, id string) (Container, error) {
	for _, c := range cs {
		if c.ID == id {
			if !validID(c.Layer) {
				return Container{}, fmt.Errorf("container %q: bad layer id %q", id, c.Layer)
			}
			return c, nil
		}
	}
	return Container{}, fmt.Errorf("container %q is not in containers.json", id)
}

// Layers reads layers.json.
func (s Store) Layers() (map[string]Layer, error) {
	var ls []Layer
	if err := readJSON(filepath.Join(s.dir("layers"), "layers.json"), &ls); err != nil {
		return nil, err
	}
	return layerIndex(ls)
}

func layerIndex(ls []Layer) (map[string]Layer, error) {
	m := make(map[string]Layer, len(ls))
	for _, l := range ls {
		if !validID(l.ID) || (l.Parent != "" && !validID(l.Parent)) {
			return nil, fmt.Errorf("layers.json: bad layer id %q (parent %q)", l.ID, l.Parent)
		}
		m[l.ID] = l
	}
	return m, nil
}

// Chain returns the layers from the lowest to top, following parents.
func Chain(layers map[string]Layer, top string) ([]string, error) {
	var chain []string
	for id := top; id != ""; id = layers[id].Parent {
		if _, ok := layers[id]; !ok {
			return nil, fmt.Errorf("layer %q is not in layers.json", id)
		}
		if len(chain) >= maxLayers {
			return nil, fmt.Errorf("layer %q: a chain of more than %d layers (a loop?)", top, maxLayers)
		}
		chain = append(chain, id)
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain, nil
}

// validID accepts the ids containers/storage makes (hex digests) and other
// names of letters, digits, '.', '_' and '-' that are a single path
// component.
func validID(id string) bool {
	if id == "" || len(id) > 255 || id == "." || id == ".." {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// readJSON decodes file into v, reading at most maxJSON bytes.
func readJSON(file string, v any) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJSON+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	if len(data) > maxJSON {
		return fmt.Errorf("%s: more than %d bytes", file, maxJSON)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// errNoImage says a container has no image (podman run --rootfs).
var errNoImage = errors.New("the container has no image layer")
