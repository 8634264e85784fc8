package imagestore

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/vbatts/tar-split/tar/storage"
)

// readHeaders calls fn with each tar header of a layer's tar-split file
// (gzip-compressed JSON lines), in archive order. File bodies are skipped
// without being produced: the tar-split holds their sizes only. The
// decompression runs ahead in a goroutine of its own (readAhead).
func readHeaders(r io.Reader, fn func(*header) error) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("tar-split: %w", err)
	}
	defer zr.Close()
	ahead := newReadAhead(zr)
	defer ahead.Close()
	return readTarSplit(ahead, fn)
}

// readTarSplit is readHeaders on the uncompressed JSON lines. It follows
// the layout tar-split gives them: a raw segment holds the padding of the
// body before it (up to the next 512-byte boundary of the tar stream) and
// then the header blocks of one entry, which parseHeaders reads; a file
// entry stands for its body, which only moves the position in the stream.
// An all-zero block ends the archive. The padding is neither decoded nor
// checked (decodeEntry). fn's header is valid until it returns.
func readTarSplit(r io.Reader, fn func(*header) error) error {
	lines := bufio.NewReaderSize(r, 64<<10)
	var pos int64
	var buf []byte
	var hdr header
	for line, entries := 1, 0; ; line++ {
		text, err := readLine(lines)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("tar-split: line %d: %w", line, err)
		}
		padding := int((blockSize - pos%blockSize) % blockSize)
		var e storage.Entry
		var skipped int
		if e, skipped, buf, err = decodeEntry(text, buf, padding); err != nil {
			return fmt.Errorf("tar-split: line %d: %w", line, err)
		}
		switch e.Type {
		case storage.FileType:
			if e.Size < 0 || pos+e.Size < pos {
				return fmt.Errorf("tar-split: line %d: bad size %d", line, e.Size)
			}
			pos += e.Size
			continue
		case storage.SegmentType:
		default:
			return fmt.Errorf("tar-split: line %d: unknown entry type %d", line, e.Type)
		}
		seg := e.Payload
		pad := min(len(seg), padding-skipped)
		seg, pos = seg[pad:], pos+int64(skipped+pad+len(seg[pad:]))
		if len(seg) == 0 {
			continue
		}
		if len(seg) >= blockSize && allZero(seg[:blockSize]) {
			return nil // the end of the archive, and what follows it
		}
		if entries++; entries > maxEntries {
			return fmt.Errorf("tar-split: more than %d entries", maxEntries)
		}
		if err := parseHeaders(seg, &hdr); err != nil {
			return fmt.Errorf("tar-split: line %d: entry %d: %w", line, entries, err)
		}
		if err := fn(&hdr); err != nil {
			return err
		}
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
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
