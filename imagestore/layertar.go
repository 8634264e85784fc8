package imagestore

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"syscall"

	"github.com/vbatts/tar-split/tar/storage"
)

// LayerDir is the directory holding a layer's files: vfs keeps a layer's
// whole tree in <graphroot>/vfs/dir/<id>, overlay the layer's own files in
// <graphroot>/overlay/<id>/diff. Other drivers are refused.
func (s Store) LayerDir(layer string) (string, error) {
	if !validID(layer) {
		return "", fmt.Errorf("bad layer id %q", layer)
	}
	if err := s.CheckDriver(); err != nil {
		return "", err
	}
	if s.Driver == "vfs" {
		return filepath.Join(s.GraphRoot, "vfs", "dir", layer), nil
	}
	return filepath.Join(s.GraphRoot, "overlay", layer, "diff"), nil
}

// CheckDriver says whether LayerDir knows where the store's driver keeps
// a layer's files: vfs and overlay.
func (s Store) CheckDriver() error {
	if s.Driver != "vfs" && s.Driver != "overlay" {
		return fmt.Errorf("storage driver %q: only vfs and overlay layers are read", s.Driver)
	}
	return nil
}

// OpenLayerTar returns a layer's tar stream as containers/storage's Diff
// makes it without compression: the raw segments of its tar-split with,
// for each file entry, the file's bytes from the layer's directory (read
// through an os.Root: a name cannot lead outside it). The stream is the
// layer as it was applied, byte for byte, so its digest is the layer's
// diff-digest when the files are intact; the caller checks it.
//
// With bodies false, file bodies are zeros and never read from disk, and
// the stream is an io.Seeker (forward only, from the current position)
// that archive/tar uses to skip them: reading a layer's headers then costs
// its tar-split only.
func (s Store) OpenLayerTar(layer string, bodies bool) (io.ReadCloser, error) {
	dir, err := s.LayerDir(layer)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(s.TarSplitPath(layer))
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", layer, err)
	}
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("layer %s: tar-split: %w", layer, err)
	}
	lt := &layerTar{layer: layer, split: f, lines: bufio.NewReaderSize(zr, 64<<10), zr: zr}
	if bodies {
		if lt.root, err = os.OpenRoot(dir); err != nil {
			lt.Close()
			return nil, fmt.Errorf("layer %s: %w", layer, err)
		}
		return lt, nil
	}
	return &seekableLayerTar{lt}, nil
}

// layerTar is OpenLayerTar's stream: the current chunk is raw bytes
// (seg) or a body of left bytes, from body or zeros.
type layerTar struct {
	layer   string
	split   *os.File
	zr      *gzip.Reader
	lines   *bufio.Reader
	root    *os.Root // nil: bodies are zeros
	line    int
	entries int
	buf     []byte
	seg     []byte
	body    *os.File
	name    string
	left    int64
	pos     int64
	err     error
}

// seekableLayerTar is a layerTar without bodies, which may skip them.
type seekableLayerTar struct{ *layerTar }

func (t *layerTar) Read(p []byte) (int, error) {
	for {
		if t.err != nil {
			return 0, t.err
		}
		if len(p) == 0 {
			return 0, nil
		}
		switch {
		case len(t.seg) > 0:
			n := copy(p, t.seg)
			t.seg, t.pos = t.seg[n:], t.pos+int64(n)
			return n, nil
		case t.left > 0:
			return t.readBody(p)
		}
		t.err = t.next()
	}
}

// readBody reads the current file body.
func (t *layerTar) readBody(p []byte) (int, error) {
	if int64(len(p)) > t.left {
		p = p[:t.left]
	}
	if t.root == nil {
		clear(p)
		t.left, t.pos = t.left-int64(len(p)), t.pos+int64(len(p))
		return len(p), nil
	}
	if t.body == nil {
		if err := t.openBody(); err != nil {
			t.err = err
			return 0, err
		}
	}
	n, err := t.body.Read(p)
	t.left, t.pos = t.left-int64(n), t.pos+int64(n)
	if errors.Is(err, io.EOF) {
		err = nil
		if n == 0 && t.left > 0 {
			err = fmt.Errorf("layer %s: file %q is shorter than its tar entry (%d bytes missing)", t.layer, t.name, t.left)
		}
	}
	if err == nil && t.left == 0 {
		err = t.closeBody()
	}
	if err != nil {
		t.err = err
	}
	return n, err
}

// openBody opens the current entry's file in the layer's directory; it
// must be a regular file (checked before it is opened, so that a FIFO or
// a device in its place is not opened, and after, on what was opened).
func (t *layerTar) openBody() error {
	name := path.Clean("/" + t.name)[1:]
	if name == "" {
		return fmt.Errorf("layer %s: a file entry named %q", t.layer, t.name)
	}
	if st, err := t.root.Lstat(name); err != nil {
		return fmt.Errorf("layer %s: %w", t.layer, err)
	} else if !st.Mode().IsRegular() {
		return fmt.Errorf("layer %s: %q is not a regular file in the layer's directory", t.layer, t.name)
	}
	f, err := t.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("layer %s: %w", t.layer, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return fmt.Errorf("layer %s: %q is not a regular file in the layer's directory", t.layer, t.name)
	}
	t.body = f
	return nil
}

func (t *layerTar) closeBody() error {
	if t.body == nil {
		return nil
	}
	err := t.body.Close()
	t.body = nil
	return err
}

// next moves to the next line of the tar-split: io.EOF at its end.
func (t *layerTar) next() error {
	if err := t.closeBody(); err != nil {
		return err
	}
	text, err := readLine(t.lines)
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	t.line++
	if err != nil {
		return fmt.Errorf("layer %s: tar-split: line %d: %w", t.layer, t.line, err)
	}
	var e storage.Entry
	// The whole payload: the padding is part of the tar.
	if e, _, t.buf, err = decodeEntry(text, t.buf, 0); err != nil {
		return fmt.Errorf("layer %s: tar-split: line %d: %w", t.layer, t.line, err)
	}
	switch e.Type {
	case storage.SegmentType:
		t.seg = e.Payload
	case storage.FileType:
		if e.Size < 0 || t.pos+e.Size < t.pos {
			return fmt.Errorf("layer %s: tar-split: line %d: bad size %d", t.layer, t.line, e.Size)
		}
		if t.entries++; t.entries > maxEntries {
			return fmt.Errorf("layer %s: tar-split: more than %d entries", t.layer, maxEntries)
		}
		t.left = e.Size
		if e.Size > 0 && t.root != nil {
			// The fast path skips names: decode the line in full.
			var full storage.Entry
			if err := json.Unmarshal(text, &full); err != nil {
				return fmt.Errorf("layer %s: tar-split: line %d: %w", t.layer, t.line, err)
			}
			if t.name = full.GetName(); len(t.name) > maxPath {
				return fmt.Errorf("layer %s: tar-split: line %d: a name longer than %d bytes", t.layer, t.line, maxPath)
			}
		}
	default:
		return fmt.Errorf("layer %s: tar-split: line %d: unknown entry type %d", t.layer, t.line, e.Type)
	}
	return nil
}

// Seek skips offset bytes forward (whence io.SeekCurrent only) without
// producing them, and returns the new position.
func (t seekableLayerTar) Seek(offset int64, whence int) (int64, error) {
	if whence != io.SeekCurrent || offset < 0 {
		return t.pos, errors.New("layer tar: only forward seeks from the current position")
	}
	for offset > 0 {
		if t.err != nil {
			return t.pos, t.err
		}
		switch {
		case len(t.seg) > 0:
			n := min(offset, int64(len(t.seg)))
			t.seg, t.pos, offset = t.seg[n:], t.pos+n, offset-n
		case t.left > 0:
			n := min(offset, t.left)
			t.left, t.pos, offset = t.left-n, t.pos+n, offset-n
		default:
			t.err = t.next()
		}
	}
	return t.pos, nil
}

// Close closes the files the stream reads.
func (t *layerTar) Close() error {
	t.closeBody()
	if t.root != nil {
		t.root.Close()
	}
	t.zr.Close()
	return t.split.Close()
}
