package imagestore

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/vbatts/tar-split/tar/storage"
)

// ReadHeaders calls fn with each tar header of a layer's tar-split file
// (gzip-compressed JSON lines), in archive order. File bodies are skipped
// without being produced: the tar-split holds their sizes only.
func ReadHeaders(r io.Reader, fn func(*tar.Header) error) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("tar-split: %w", err)
	}
	defer zr.Close()
	return readTarSplit(zr, fn)
}

// readTarSplit is ReadHeaders on the uncompressed JSON lines.
func readTarSplit(r io.Reader, fn func(*tar.Header) error) error {
	hs := &headerStream{lines: bufio.NewReaderSize(r, 64<<10)}
	tr := tar.NewReader(hs)
	for n := 0; ; n++ {
		if n >= maxEntries {
			return fmt.Errorf("tar-split: more than %d entries", maxEntries)
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if hs.err != nil {
				return hs.err
			}
			return fmt.Errorf("tar-split: entry %d: %w", n, err)
		}
		if err := fn(hdr); err != nil {
			return err
		}
	}
}

// headerStream is the tar stream a tar-split file describes, with every
// file body read as zeros (and skipped by Seek, which archive/tar uses to
// pass over a body).
type headerStream struct {
	lines *bufio.Reader
	line  int
	seg   []byte // what is left of the current raw segment
	body  int64  // what is left of the current file body
	pos   int64
	err   error  // the first error of the JSON lines, beyond archive/tar's
	buf   []byte // the decoded payloads, reused from segment to segment
}

func (h *headerStream) Read(p []byte) (int, error) {
	for len(h.seg) == 0 && h.body == 0 {
		if err := h.next(); err != nil {
			return 0, err
		}
	}
	var n int
	if len(h.seg) > 0 {
		n = copy(p, h.seg)
		h.seg = h.seg[n:]
	} else {
		n = int(min(int64(len(p)), h.body))
		clear(p[:n])
		h.body -= int64(n)
	}
	h.pos += int64(n)
	return n, nil
}

// Seek moves forward only (io.SeekCurrent with offset >= 0): how
// archive/tar skips a body it is not asked for.
func (h *headerStream) Seek(offset int64, whence int) (int64, error) {
	if whence != io.SeekCurrent || offset < 0 {
		return h.pos, errors.New("tar-split: headerStream seeks forward only")
	}
	for offset > 0 {
		if len(h.seg) == 0 && h.body == 0 {
			if err := h.next(); err != nil {
				return h.pos, err
			}
			continue
		}
		var n int64
		if len(h.seg) > 0 {
			n = min(offset, int64(len(h.seg)))
			h.seg = h.seg[n:]
		} else {
			n = min(offset, h.body)
			h.body -= n
		}
		offset -= n
		h.pos += n
	}
	return h.pos, nil
}

// next reads the next JSON line into seg or body.
func (h *headerStream) next() error {
	if h.err != nil {
		return h.err
	}
	line, err := readLine(h.lines)
	if err != nil {
		if !errors.Is(err, io.EOF) {
			h.err = fmt.Errorf("tar-split: line %d: %w", h.line+1, err)
			return h.err
		}
		return io.EOF
	}
	h.line++
	e, buf, err := decodeEntry(line, h.buf)
	if err != nil {
		h.err = fmt.Errorf("tar-split: line %d: %w", h.line, err)
		return h.err
	}
	h.buf = buf
	switch e.Type {
	case storage.SegmentType:
		h.seg = e.Payload
	case storage.FileType:
		if e.Size < 0 {
			h.err = fmt.Errorf("tar-split: line %d: negative size %d", h.line, e.Size)
			return h.err
		}
		h.body = e.Size
	default:
		h.err = fmt.Errorf("tar-split: line %d: unknown entry type %d", h.line, e.Type)
		return h.err
	}
	return nil
}

// readLine returns the next non-empty line of r without its newline and
// surrounding blanks, at most maxLine bytes; io.EOF at the end. The line
// is r's buffer when it fits there (valid until the next read).
func readLine(r *bufio.Reader) ([]byte, error) {
	for blank := 0; ; {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			line = append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				var chunk []byte
				chunk, err = r.ReadSlice('\n')
				if len(line)+len(chunk) > maxLine {
					return nil, fmt.Errorf("a line longer than %d bytes", maxLine)
				}
				line = append(line, chunk...)
			}
		}
		if len(line) > maxLine {
			return nil, fmt.Errorf("a line longer than %d bytes", maxLine)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if line = trimBlanks(line); len(line) > 0 {
			return line, nil
		}
		if err != nil {
			return nil, err // io.EOF
		}
		if blank++; blank > maxLine {
			return nil, fmt.Errorf("more than %d blank lines", maxLine)
		}
	}
}

// trimBlanks drops the ASCII blanks around b.
func trimBlanks(b []byte) []byte {
	blank := func(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }
	for len(b) > 0 && blank(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && blank(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}
