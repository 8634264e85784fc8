package imagestore

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// Owners returns the Table of the image whose top layer is top, from the
// cache in cacheDir (when not "") or from the layers' tar-split files,
// caching what it computed. cached says which.
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
	fp, err := s.fingerprint(chain)
	if err != nil {
		return nil, false, err
	}
	file := ""
	if cacheDir != "" {
		file = filepath.Join(cacheDir, s.cacheName(top))
		t, err := readCache(file, fp)
		if err == nil {
			return t, true, nil
		}
		if !os.IsNotExist(err) {
			log.Debug("image owners: cache not used", "file", file, "err", err)
		}
	}
	t, err = s.merge(chain)
	if err != nil {
		return nil, false, err
	}
	if file != "" {
		if err := writeCache(file, fp, t); err != nil {
			log.Warn("image owners: cannot cache", "file", file, "err", err)
		}
	}
	return t, false, nil
}

// cacheName names the cached Table of top in this store: the same layer
// (a pulled layer's id is its content's) in two stores has two entries.
func (s Store) cacheName(top string) string {
	sum := sha256.Sum256([]byte(s.GraphRoot + "\x00" + s.Driver))
	return top + "-" + hex.EncodeToString(sum[:6])
}

// merge reads the chain's tar-split files, lowest layer first.
func (s Store) merge(chain []string) (Table, error) {
	readers := make([]func(func(*header) error) error, len(chain))
	for i, id := range chain {
		readers[i] = func(fn func(*header) error) error {
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
	}
	return mergeLayers(readers...)
}
