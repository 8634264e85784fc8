package imagefix

import (
	"compress/gzip"
	"fmt"
	"io"
	"strings"
)

// compression is how a layer blob is compressed, from its media type.
type compression int

const (
	uncompressed compression = iota
	gzipped
)

// layerCompression maps a layer media type (OCI's, and Docker's that
// podman may keep) to its compression.
func layerCompression(mediaType string) (compression, error) {
	switch {
	case strings.HasSuffix(mediaType, ".tar"), mediaType == "application/vnd.docker.image.rootfs.diff.tar":
		return uncompressed, nil
	case strings.HasSuffix(mediaType, ".tar+gzip"), strings.HasSuffix(mediaType, ".tar.gzip"):
		return gzipped, nil
	}
	return 0, fmt.Errorf("layer media type %q is not supported (want an uncompressed or gzip tar)", mediaType)
}

// decompress returns the tar stream of a blob.
func (c compression) decompress(r io.Reader) (io.ReadCloser, error) {
	if c == gzipped {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	}
	return io.NopCloser(r), nil
}

// compress returns a writer that compresses into w; Close flushes it (and
// does not close w).
func (c compression) compress(w io.Writer) io.WriteCloser {
	if c == gzipped {
		return gzip.NewWriter(w)
	}
	return nopWriteCloser{w}
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
