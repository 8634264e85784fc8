package imagefix

import (
	"fmt"
	"path"
	"strings"
)

// maxPathLen is PATH_MAX: no file system the layer is applied to takes a
// longer name.
const maxPathLen = 4096

// cleanPath returns a layer entry's name relative to the image's root
// ("etc/passwd"; "" for the root itself), or an error for a name that is
// absolute, climbs out with "..", holds a NUL or is longer than PATH_MAX.
func cleanPath(name string) (string, error) {
	if len(name) > maxPathLen {
		return "", fmt.Errorf("path of %d bytes (more than %d)", len(name), maxPathLen)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("path %q holds a NUL byte", name)
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("absolute path %q", name)
	}
	p := path.Clean(name)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("path %q climbs out of the root", name)
	}
	if p == "." {
		return "", nil
	}
	return p, nil
}

// Whiteouts (OCI image-spec, layer.md): ".wh.NAME" removes NAME of the
// lower layers; ".wh..wh..opq" in a directory removes all its lower
// children.
const (
	whiteoutPrefix = ".wh."
	opaqueWhiteout = ".wh..wh..opq"
)

// whiteout says what the entry at p removes from the lower layers: the
// path itself (opaque false) or the children of the directory (opaque
// true); ok is false for an ordinary entry.
func whiteout(p string) (target string, opaque, ok bool) {
	dir, base := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	switch {
	case base == opaqueWhiteout:
		return dir, true, true
	case strings.HasPrefix(base, whiteoutPrefix):
		return path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix)), false, true
	}
	return "", false, false
}
