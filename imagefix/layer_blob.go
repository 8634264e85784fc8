package imagefix

import (
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// openLayer opens a layer blob's tar stream to read its headers. An
// uncompressed blob is the *os.File itself (or a BlobSource's seekable
// stream), so that archive/tar seeks over file bodies instead of reading
// them.
func openLayer(l layout, desc v1.Descriptor) (tarStream io.Reader, closeFn func(), err error) {
	c, err := layerCompression(desc.MediaType)
	if err != nil {
		return nil, nil, err
	}
	f, err := l.openBlob(desc, false)
	if err != nil {
		return nil, nil, err
	}
	if c == uncompressed {
		return f, func() { f.Close() }, nil
	}
	zr, err := c.decompress(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return zr, func() { zr.Close(); f.Close() }, nil
}

// readLayerBlob reads a layer blob that stays as it is; with lower not
// nil, its whiteouts are applied to lower and its owners returned.
func readLayerBlob(l layout, desc v1.Descriptor, lower *ownerTree) (layerResult, error) {
	r, closeFn, err := openLayer(l, desc)
	if err != nil {
		return layerResult{}, err
	}
	defer closeFn()
	return fixLayer(r, nil, lower, false)
}

// rewriteBlob writes a fixed copy of a layer blob, compressed as it was,
// and returns its descriptor and diff_id with the number of entries fixed.
// When none was, the copy is removed and the layer stays as it is. The
// blob read must match its digest, its tar the config's diff_id.
func rewriteBlob(l layout, desc v1.Descriptor, oldDiffID digest.Digest, lower *ownerTree, inherit bool) (v1.Descriptor, digest.Digest, layerResult, error) {
	c, err := layerCompression(desc.MediaType)
	if err != nil {
		return desc, "", layerResult{}, err
	}
	if err := desc.Digest.Validate(); err != nil {
		return desc, "", layerResult{}, err
	}
	if err := oldDiffID.Validate(); err != nil {
		return desc, "", layerResult{}, fmt.Errorf("diff_id: %w", err)
	}
	in, err := l.openBlob(desc, true)
	if err != nil {
		return desc, "", layerResult{}, err
	}
	defer in.Close()
	inDigest := desc.Digest.Algorithm().Digester()
	zr, err := c.decompress(io.TeeReader(in, inDigest.Hash()))
	if err != nil {
		return desc, "", layerResult{}, err
	}
	defer zr.Close()
	inDiffID := oldDiffID.Algorithm().Digester()
	tarIn := io.TeeReader(zr, inDiffID.Hash())

	out, tmp, err := l.createTemp()
	if err != nil {
		return desc, "", layerResult{}, err
	}
	keep := false
	defer func() {
		if !keep {
			out.Close()
			l.root.Remove(tmp)
		}
	}()
	outDigest, diffID := digest.Canonical.Digester(), digest.Canonical.Digester()
	counted := &countingWriter{w: io.MultiWriter(out, outDigest.Hash())}
	zw := c.compress(counted)
	res, err := fixLayer(tarIn, io.MultiWriter(zw, diffID.Hash()), lower, inherit)
	if err != nil {
		return desc, "", layerResult{}, err
	}
	// The rest of the blob (tar padding, the gzip trailer) counts for
	// its digest; gzip checks its own checksum at its end.
	if _, err := io.Copy(io.Discard, tarIn); err != nil {
		return desc, "", layerResult{}, fmt.Errorf("after the tar's end: %w", err)
	}
	if _, err := io.Copy(inDigest.Hash(), in); err != nil {
		return desc, "", layerResult{}, err
	}
	if inDigest.Digest() != desc.Digest {
		return desc, "", layerResult{}, fmt.Errorf("blob content does not match its digest (%s)", inDigest.Digest())
	}
	if inDiffID.Digest() != oldDiffID {
		return desc, "", layerResult{}, fmt.Errorf("layer content does not match the config's diff_id %s (%s)", oldDiffID, inDiffID.Digest())
	}
	if res.changed == 0 {
		return desc, "", res, nil
	}
	if err := zw.Close(); err != nil {
		return desc, "", layerResult{}, err
	}
	if err := out.Close(); err != nil {
		return desc, "", layerResult{}, err
	}
	keep = true
	if err := l.commitBlob(tmp, outDigest.Digest()); err != nil {
		l.root.Remove(tmp)
		return desc, "", layerResult{}, err
	}
	nd := desc
	nd.Digest, nd.Size = outDigest.Digest(), counted.n
	return nd, diffID.Digest(), res, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
