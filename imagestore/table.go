package imagestore

import (
	"archive/tar"
	"bytes"
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

// merger merges layers, lowest first, into a table. It makes a string
// only for an entry it keeps: the paths of the other entries are built in
// a buffer of its own and looked up in its maps without one.
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
	// name and link are the current entry's clean paths.
	name, link []byte
}

type layerEntry struct {
	Entry
	layer int
}

func newMerger() *merger { return &merger{entries: map[string]layerEntry{}} }

// load starts the merger from the Table of the layers below the next.
func (m *merger) load(t Table) {
	for _, e := range t {
		m.entries[e.Path] = layerEntry{e, m.layer}
		m.bytes += len(e.Path)
	}
}

// addLayer merges the next layer: read calls its argument with every
// header of the layer in archive order (as readHeaders does).
func (m *merger) addLayer(read func(func(*header) error) error) error {
	m.startLayer()
	if err := read(m.add); err != nil {
		return err
	}
	m.endLayer()
	return nil
}

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
func (m *merger) add(hdr *header) error {
	name, err := appendClean(m.name[:0], hdr.name)
	if err != nil {
		return err
	}
	m.name = name
	slash := bytes.LastIndexByte(name, '/')
	dir, base := name[:max(slash, 1)], name[slash+1:]
	switch {
	case string(base) == opaqueMarker:
		m.cut(dir)
		return nil
	case bytes.HasPrefix(base, []byte(whiteoutMeta)):
		return nil // other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs)
	case bytes.HasPrefix(base, []byte(whiteoutPrefix)):
		target := []byte(path.Join(string(dir), string(base[len(whiteoutPrefix):])))
		m.removeEarlier(target)
		m.cut(target)
		return nil
	}
	e, err := entryOf(name, hdr)
	if err != nil {
		return err
	}
	m.removeEarlier(name)
	if hdr.typeflag != tar.TypeDir {
		m.cut(name)
	}
	if hdr.typeflag == tar.TypeLink {
		// A hard link shares its target's inode, which the link's header
		// gives its owner and mode (containers/storage chowns and chmods
		// the link's path after linking it).
		target, err := appendClean(m.link[:0], hdr.linkname)
		if err != nil {
			return fmt.Errorf("hard link %q: %w", name, err)
		}
		m.link = target
		if err := m.set(target, e); err != nil {
			return err
		}
	}
	return m.set(name, e)
}

// set records e's owner and mode for p, or forgets p when e is owned by
// 0:0 with no special bit.
func (m *merger) set(p []byte, e Entry) error {
	if old, ok := m.entries[string(p)]; ok {
		m.bytes -= len(old.Path)
		delete(m.entries, old.Path)
	}
	if !e.special() {
		return nil
	}
	if len(m.entries) >= maxTable || m.bytes+len(p) > maxTableBytes {
		return fmt.Errorf("more than %d owned paths or %d bytes of them", maxTable, maxTableBytes)
	}
	e.Path = string(p)
	m.entries[e.Path] = layerEntry{e, m.layer}
	m.bytes += len(p)
	return nil
}

// removeEarlier forgets p if an earlier layer gave it.
func (m *merger) removeEarlier(p []byte) {
	if old, ok := m.entries[string(p)]; ok && old.layer < m.layer {
		m.bytes -= len(old.Path)
		delete(m.entries, old.Path)
	}
}

// cut marks p as a path whose earlier layers' descendants go at the end
// of the layer; only paths with such descendants are kept.
func (m *merger) cut(p []byte) {
	if m.dirs[string(p)] {
		m.cuts[string(p)] = true
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

// entryOf checks a header's owner and mode; the entry has no path.
func entryOf(name []byte, hdr *header) (Entry, error) {
	if hdr.uid < 0 || hdr.gid < 0 || hdr.uid > math.MaxUint32-1 || hdr.gid > math.MaxUint32-1 {
		return Entry{}, fmt.Errorf("%q: owner %d:%d out of range", name, hdr.uid, hdr.gid)
	}
	return Entry{UID: uint32(hdr.uid), GID: uint32(hdr.gid), Mode: uint32(hdr.mode) & 0o7777}, nil
}

// cleanPath makes a tar name absolute and clean in the image's root,
// refusing one that leaves it ("..") or is too long.
func cleanPath(name string) (string, error) {
	p, err := appendClean(nil, []byte(name))
	return string(p), err
}

// appendClean appends name made absolute and clean in the image's root
// to dst, as path.Clean("/" + name) but refusing a ".." and a name that
// is too long or has a NUL byte.
func appendClean(dst, name []byte) ([]byte, error) {
	if len(name) > maxPath {
		return dst, fmt.Errorf("a path of %d bytes (more than %d)", len(name), maxPath)
	}
	if bytes.IndexByte(name, 0) >= 0 {
		return dst, errors.New("a path with a NUL byte")
	}
	start := len(dst)
	for rest := name; len(rest) > 0; {
		var c []byte
		c, rest, _ = bytes.Cut(rest, []byte("/"))
		switch string(c) {
		case "", ".":
			continue
		case "..":
			return dst, fmt.Errorf("path %q leaves the image's root", name)
		}
		dst = append(append(dst, '/'), c...)
	}
	if len(dst) == start {
		dst = append(dst, '/')
	}
	return dst, nil
}
