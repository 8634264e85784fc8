package imagestore

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Owners returns the Table of the image whose top layer is top. The Table
// of each layer (the owners its chain of layers, up to it, gives) is
// cached in cacheDir (when not ""): Owners reads the tar-split files of
// the layers above the highest one whose Table is cached, and caches the
// Table of each layer it read; an image on a known base reads only its
// own layers. cached says the top layer's Table came from the cache.
func (s Store) Owners(top, cacheDir string, log *slog.Logger) (t Table, cached bool, err error) {
	if top == "" {
		return nil, false, errNoImage
	}
	layers, err := s.Layers()
	if err != nil {
		return nil, false, err
	}
	chain, err := Chain(layers, top)
	if err != nil {
		return nil, false, err
	}
	fps, err := s.fingerprints(chain)
	if err != nil {
		return nil, false, err
	}
	m, from := newMerger(), 0
	if cacheDir != "" {
		for i := len(chain) - 1; i >= 0; i-- {
			file := filepath.Join(cacheDir, s.cacheName(chain[i]))
			t, err := readCache(file, fps[i])
			if err != nil {
				if !os.IsNotExist(err) {
					log.Debug("image owners: cache not used", "file", file, "err", err)
				}
				continue
			}
			if i == len(chain)-1 {
				return t, true, nil
			}
			m.load(t)
			from = i + 1
			break
		}
	}
	for i := from; i < len(chain); i++ {
		id := chain[i]
		if err := m.addLayer(func(fn func(*header) error) error { return s.readLayer(id, fn) }); err != nil {
			return nil, false, fmt.Errorf("layer %d: %w", i, err)
		}
		if cacheDir == "" {
			continue
		}
		file := filepath.Join(cacheDir, s.cacheName(chain[i]))
		if err := writeCache(file, fps[i], m.table()); err != nil {
			log.Warn("image owners: cannot cache", "file", file, "err", err)
		}
	}
	if cacheDir != "" {
		pruneCache(cacheDir, time.Now().Add(-cacheLifetime))
	}
	return m.table(), false, nil
}

// cacheName names the cached Table of a layer in this store: the same
// layer (a pulled layer's id is its content's) in two stores has two
// entries.
func (s Store) cacheName(layer string) string {
	sum := sha256.Sum256([]byte(s.GraphRoot + "\x00" + s.Driver))
	return layer + "-" + hex.EncodeToString(sum[:6])
}

// readLayer calls fn with each header of a layer's tar-split file.
func (s Store) readLayer(id string, fn func(*header) error) error {
	f, err := os.Open(s.TarSplitPath(id))
	if err != nil {
		return err
	}
	defer f.Close()
	if err := readHeaders(f, fn); err != nil {
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	return nil
}
