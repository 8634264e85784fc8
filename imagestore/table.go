package imagestore

import (
	"archive/tar"
	"errors"
	"fmt"
	"math"
	"path"
	"slices"
	"strings"
)

// Entry is a path of an image whose owner is not 0:0 or whose mode has a
// special bit, as the image's tar headers give them.
type Entry struct {
	Path     string // absolute and clean, in the image's root
	UID, GID uint32
	Mode     uint32 // permission and special bits (07777)
}

// Table is an image's owners: its entries sorted by path.
type Table []Entry

// specialBits are the set-user-ID, set-group-ID and sticky bits.
const specialBits = 0o7000

// The whiteout names of the OCI image layer format (AUFS style).
const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	opaqueMarker   = ".wh..wh..opq"
)

// merger merges layers, lowest first, into a table.
type merger struct {
	entries map[string]layerEntry
	bytes   int
	layer   int
	// dirs holds every proper ancestor of an entry of an earlier layer
	// (set at the start of each layer), and cuts the paths of the current
	// layer below which those entries go: a whiteout, an opaque directory,
	// a non-directory replacing a directory.
	dirs map[string]bool
	cuts map[string]bool
}

type layerEntry struct {
	Entry
	layer int
}

func newMerger() *merger { return &merger{entries: map[string]layerEntry{}} }

// startLayer begins the next layer.
func (m *merger) startLayer() {
	m.layer++
	m.cuts = map[string]bool{}
	m.dirs = map[string]bool{}
	for p := range m.entries {
		for d := path.Dir(p); d != "/" && !m.dirs[d]; d = path.Dir(d) {
			m.dirs[d] = true
		}
		m.dirs["/"] = true
	}
}

// add merges one header of the current layer.
func (m *merger) add(hdr *tar.Header) error {
	name, err := cleanPath(hdr.Name)
	if err != nil {
		return err
	}
	dir, base := path.Dir(name), path.Base(name)
	switch {
	case base == opaqueMarker:
		m.cut(dir)
		return nil
	case strings.HasPrefix(base, whiteoutMeta):
		return nil // other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs)
	case strings.HasPrefix(base, whiteoutPrefix):
		target := path.Join(dir, base[len(whiteoutPrefix):])
		m.removeEarlier(target)
		m.cut(target)
		return nil
	}
	e, err := entryOf(name, hdr)
	if err != nil {
		return err
	}
	m.removeEarlier(name)
	if hdr.Typeflag != tar.TypeDir {
		m.cut(name)
	}
	if hdr.Typeflag == tar.TypeLink {
		// A hard link shares its target's inode, which the link's header
		// gives its owner and mode (containers/storage chowns and chmods
		// the link's path after linking it).
		target, err := cleanPath(hdr.Linkname)
		if err != nil {
			return fmt.Errorf("hard link %q: %w", name, err)
		}
		if err := m.set(Entry{Path: target, UID: e.UID, GID: e.GID, Mode: e.Mode}); err != nil {
			return err
		}
	}
	return m.set(e)
}

// set records e, or forgets its path when e is owned by 0:0 with no
// special bit.
func (m *merger) set(e Entry) error {
	if old, ok := m.entries[e.Path]; ok {
		m.bytes -= len(old.Path)
		delete(m.entries, e.Path)
	}
	if !e.special() {
		return nil
	}
	if len(m.entries) >= maxTable || m.bytes+len(e.Path) > maxTableBytes {
		return fmt.Errorf("more than %d owned paths or %d bytes of them", maxTable, maxTableBytes)
	}
	m.entries[e.Path] = layerEntry{e, m.layer}
	m.bytes += len(e.Path)
	return nil
}

// removeEarlier forgets p if an earlier layer gave it.
func (m *merger) removeEarlier(p string) {
	if old, ok := m.entries[p]; ok && old.layer < m.layer {
		m.bytes -= len(p)
		delete(m.entries, p)
	}
}

// cut marks p as a path whose earlier layers' descendants go at the end
// of the layer; only paths with such descendants are kept.
func (m *merger) cut(p string) {
	if m.dirs[p] {
		m.cuts[p] = true
	}
}

// endLayer applies the layer's cuts to the entries of earlier layers.
func (m *merger) endLayer() {
	if len(m.cuts) == 0 {
		return
	}
	for p, e := range m.entries {
		if e.layer == m.layer {
			continue
		}
		for d := path.Dir(p); ; d = path.Dir(d) {
			if m.cuts[d] {
				m.bytes -= len(p)
				delete(m.entries, p)
				break
			}
			if d == "/" {
				break
			}
		}
	}
}

// table returns the merged entries sorted by path.
func (m *merger) table() Table {
	t := make(Table, 0, len(m.entries))
	for _, e := range m.entries {
		t = append(t, e.Entry)
	}
	slices.SortFunc(t, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	return t
}

func (e Entry) special() bool { return e.UID != 0 || e.GID != 0 || e.Mode&specialBits != 0 }

// entryOf checks a header's owner and mode.
func entryOf(name string, hdr *tar.Header) (Entry, error) {
	if hdr.Uid < 0 || hdr.Gid < 0 || int64(hdr.Uid) > math.MaxUint32-1 || int64(hdr.Gid) > math.MaxUint32-1 {
		return Entry{}, fmt.Errorf("%q: owner %d:%d out of range", name, hdr.Uid, hdr.Gid)
	}
	return Entry{Path: name, UID: uint32(hdr.Uid), GID: uint32(hdr.Gid), Mode: uint32(hdr.Mode) & 0o7777}, nil
}

// cleanPath makes a tar name absolute and clean in the image's root,
// refusing one that leaves it ("..") or is too long.
func cleanPath(name string) (string, error) {
	if len(name) > maxPath {
		return "", fmt.Errorf("a path of %d bytes (more than %d)", len(name), maxPath)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "", errors.New("a path with a NUL byte")
	}
	for rest := name; rest != ""; {
		var c string
		c, rest, _ = strings.Cut(rest, "/")
		if c == ".." {
			return "", fmt.Errorf("path %q leaves the image's root", name)
		}
	}
	return path.Clean("/" + name), nil
}

// Merge merges layers, lowest first, each given as a function that calls
// its argument with every header of the layer in archive order (as
// ReadHeaders does).
func Merge(layers ...func(func(*tar.Header) error) error) (Table, error) {
	m := newMerger()
	for i, read := range layers {
		m.startLayer()
		if err := read(m.add); err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		m.endLayer()
	}
	return m.table(), nil
}
