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
	maxNodes           = 1 << 22 // paths with a non-root owner, all layers
)

var errTooManyEntries = errors.New("too many entries with a non-root owner")

// layerResult is what reading a layer found.
type layerResult struct {
	allRoot   bool // every entry's tar owner is 0:0: committed under a single mapping
	hasRecord bool // some entry carries an owner record
	entries   int
	changed   int            // entries whose header changed
	pending   []pendingOwner // the owners the layer leaves, for ownerTree.apply
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
	lower   *ownerTree // nil: only read the layer
	inherit bool       // a build layer: unrecorded root entries keep lower owners
	layerResult
	links map[string]Owner // the owners this layer changed or a record decided, for its hardlinks
}

// fixLayer reads the layer tar r and, when w is not nil, writes it to w
// with its owners fixed. Its whiteouts are applied to lower at once (they
// remove lower layers' paths), the owners it leaves are returned in
// pending. With lower nil, fixLayer only reads the layer.
func fixLayer(r io.Reader, w io.Writer, lower *ownerTree, inherit bool) (layerResult, error) {
	f := &layerFixer{lower: lower, inherit: inherit && lower != nil, links: map[string]Owner{}}
	f.allRoot = true
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
			return f.layerResult, fmt.Errorf("after %d entries: %w", f.entries, err)
		}
		if err := f.fixEntry(hdr); err != nil {
			return f.layerResult, fmt.Errorf("entry %s: %w", quoteName(hdr.Name), err)
		}
		if tw == nil {
			continue
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return f.layerResult, fmt.Errorf("entry %s: write: %w", quoteName(hdr.Name), err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return f.layerResult, fmt.Errorf("entry %s: %w", quoteName(hdr.Name), err)
		}
	}
	if tw != nil {
		if err := tw.Close(); err != nil {
			return f.layerResult, err
		}
	}
	return f.layerResult, nil
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
	f.allRoot = f.allRoot && own.isRoot()

	rec, hasRecord := hdr.PAXRecords[ownerRecordKey]
	f.hasRecord = f.hasRecord || hasRecord
	nodeChanged, err := applyNode(hdr)
	if err != nil {
		return err
	}
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

	if f.lower != nil {
		f.track(p, fixed, hdr.Typeflag == tar.TypeDir, target, opaque, isWhiteout)
	}
	if !hasRecord && !nodeChanged && fixed == own {
		return nil
	}
	f.changed++
	f.links[p] = fixed
	hdr.Uid, hdr.Gid = int(fixed.UID), int(fixed.GID)
	hdr.Uname, hdr.Gname = "", ""
	if (fixed.UID > maxUSTARID || fixed.GID > maxUSTARID) && hdr.Format == tar.FormatUSTAR {
		hdr.Format = tar.FormatPAX
	}
	return nil
}

// track applies a whiteout to the lower layers' owners, or notes the
// owner an entry leaves when it is not root or replaces a lower one.
func (f *layerFixer) track(p string, o Owner, isDir bool, target string, opaque, isWhiteout bool) {
	switch {
	case isWhiteout && opaque:
		f.lower.removeChildren(target)
	case isWhiteout:
		f.lower.remove(target)
	default:
		if _, lowerOwned := f.lower.lookup(p); !o.isRoot() || lowerOwned {
			f.pending = append(f.pending, pendingOwner{path: p, owner: o, isDir: isDir})
		}
	}
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
