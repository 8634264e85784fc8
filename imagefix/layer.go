package imagefix

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"math"
)

// Bounds on what one image may hold, so that a hostile layer ends in an
// error, not in an exhausted machine.
const (
	maxEntriesPerLayer = 1 << 22 // 4194304 entries
	maxNodes           = 1 << 23 // paths with a non-root owner, all layers
)

var errTooManyEntries = errors.New("too many entries with a non-root owner")

// layerSummary is what a first reading of a layer says about it.
type layerSummary struct {
	allRoot   bool // every entry's tar owner is 0:0: committed under a single mapping
	hasRecord bool // some entry carries an owner record
	entries   int
}

// summarizeLayer reads the headers of a layer tar.
func summarizeLayer(r io.Reader) (layerSummary, error) {
	s := layerSummary{allRoot: true}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, fmt.Errorf("after %d entries: %w", s.entries, err)
		}
		if s.entries++; s.entries > maxEntriesPerLayer {
			return s, fmt.Errorf("more than %d entries", maxEntriesPerLayer)
		}
		if hdr.Uid != 0 || hdr.Gid != 0 {
			s.allRoot = false
		}
		if _, ok := hdr.PAXRecords[ownerRecordKey]; ok {
			s.hasRecord = true
		}
	}
}

// pendingOwner is an owner this layer leaves at a path, recorded in the
// lower layers' tree once the layer has been read.
type pendingOwner struct {
	path  string
	owner Owner
	isDir bool
}

// layerFixer rewrites one layer's entries against the owners of the layers
// below it.
type layerFixer struct {
	lower   *ownerTree
	inherit bool // a build layer: unrecorded root entries keep lower owners
	changed int  // entries whose header changed
	entries int

	pending []pendingOwner
	links   map[string]Owner // this layer's changed owners, for its hardlinks
}

// fixLayer reads the layer tar r and, when w is not nil, writes it to w
// with its owners fixed; either way lower then holds this layer's owners.
func fixLayer(r io.Reader, w io.Writer, lower *ownerTree, inherit bool) (changed int, err error) {
	f := &layerFixer{lower: lower, inherit: inherit, links: map[string]Owner{}}
	tr := tar.NewReader(r)
	var tw *tar.Writer
	if w != nil {
		tw = tar.NewWriter(w)
	}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("after %d entries: %w", f.entries, err)
		}
		if err := f.fixEntry(hdr); err != nil {
			return 0, fmt.Errorf("entry %s: %w", quoteName(hdr.Name), err)
		}
		if tw == nil {
			continue
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return 0, fmt.Errorf("entry %s: write: %w", quoteName(hdr.Name), err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return 0, fmt.Errorf("entry %s: %w", quoteName(hdr.Name), err)
		}
	}
	if tw != nil {
		if err := tw.Close(); err != nil {
			return 0, err
		}
	}
	for _, p := range f.pending {
		if err := lower.set(p.path, p.owner, p.isDir); err != nil {
			return 0, err
		}
	}
	return f.changed, nil
}

// fixEntry fixes hdr in place.
func (f *layerFixer) fixEntry(hdr *tar.Header) error {
	if f.entries++; f.entries > maxEntriesPerLayer {
		return fmt.Errorf("more than %d entries in the layer", maxEntriesPerLayer)
	}
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	p, err := cleanPath(hdr.Name)
	if err != nil {
		return err
	}
	if hdr.Uid < 0 || hdr.Gid < 0 || hdr.Uid > math.MaxUint32 || hdr.Gid > math.MaxUint32 {
		return fmt.Errorf("owner %d:%d out of range", hdr.Uid, hdr.Gid)
	}
	own := Owner{UID: uint32(hdr.Uid), GID: uint32(hdr.Gid)}
	fixed := own

	rec, hasRecord := hdr.PAXRecords[ownerRecordKey]
	target, opaque, isWhiteout := whiteout(p)
	switch {
	case hasRecord:
		if fixed, err = applyRecord(own, []byte(rec)); err != nil {
			return err
		}
		delete(hdr.PAXRecords, ownerRecordKey)
		delete(hdr.Xattrs, OwnerXattr) //nolint:staticcheck // the reader fills both
	case hdr.Typeflag == tar.TypeLink:
		lp, err := cleanPath(hdr.Linkname)
		if err != nil {
			return fmt.Errorf("hardlink to %w", err)
		}
		if o, ok := f.links[lp]; ok {
			fixed = o
		} else if f.inherit && own.isRoot() {
			fixed, _ = f.lower.lookup(lp)
		}
	case isWhiteout:
	case f.inherit && own.isRoot():
		fixed, _ = f.lower.lookup(p)
	}

	if isWhiteout {
		if opaque {
			f.lower.removeChildren(target)
		} else {
			f.lower.remove(target)
		}
	} else if _, lowerOwned := f.lower.lookup(p); !fixed.isRoot() || lowerOwned {
		f.pending = append(f.pending, pendingOwner{path: p, owner: fixed, isDir: hdr.Typeflag == tar.TypeDir})
	}
	if !hasRecord && fixed == own {
		return nil
	}
	f.changed++
	if fixed != own {
		f.links[p] = fixed
	}
	hdr.Uid, hdr.Gid = int(fixed.UID), int(fixed.GID)
	hdr.Uname, hdr.Gname = "", ""
	if (fixed.UID > maxUSTARID || fixed.GID > maxUSTARID) && hdr.Format == tar.FormatUSTAR {
		hdr.Format = tar.FormatPAX
	}
	return nil
}

// maxUSTARID is the largest id a USTAR header's 7 octal digits hold.
const maxUSTARID = 0o7777777

// quoteName quotes a hostile entry name for a one-line message.
func quoteName(name string) string {
	const max = 120
	if len(name) > max {
		return fmt.Sprintf("%q... (%d bytes)", name[:max], len(name))
	}
	return fmt.Sprintf("%q", name)
}
