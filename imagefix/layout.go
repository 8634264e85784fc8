package imagefix

import (
	"crypto/rand"
	_ "crypto/sha256" // go-digest's sha256 (digest.Canonical)
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// maxJSONBlob bounds the index, manifests and configs read into memory.
const maxJSONBlob = 16 << 20

// layout is an OCI image layout directory (image-spec image-layout.md),
// reached only through an os.Root: no name, symlink or ".." in the layout
// leads outside it.
type layout struct {
	root  *os.Root
	blobs BlobSource // blobs absent from the directory; nil: none
}

// BlobSource gives layer blobs a layout leaves out (see Options.Blobs).
type BlobSource interface {
	// OpenBlob opens blob d. With bodies false, only the tar's headers
	// are read: the bodies may be anything of the right size.
	OpenBlob(d digest.Digest, bodies bool) (io.ReadCloser, error)
}

// blobPath is where the blob of d lives; d is validated first (algorithm
// and hex length), so that it names a file under blobs/ only.
func blobPath(d digest.Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("digest %q: %w", d, err)
	}
	return path.Join("blobs", d.Algorithm().String(), d.Encoded()), nil
}

// openBlob opens the blob of desc, from the layout's directory or, when
// it is absent there, from l.blobs (bodies: see BlobSource).
func (l layout) openBlob(desc v1.Descriptor, bodies bool) (io.ReadCloser, error) {
	p, err := blobPath(desc.Digest)
	if err != nil {
		return nil, err
	}
	f, err := l.root.Open(p)
	if errors.Is(err, fs.ErrNotExist) && l.blobs != nil {
		return l.blobs.OpenBlob(desc.Digest, bodies)
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// readJSONBlob reads a small blob, checks its size and digest, and
// decodes it into v; it returns the blob's bytes.
func (l layout) readJSONBlob(desc v1.Descriptor, v any) ([]byte, error) {
	if desc.Size < 0 || desc.Size > maxJSONBlob {
		return nil, fmt.Errorf("blob %s: size %d out of range", desc.Digest, desc.Size)
	}
	f, err := l.openBlob(desc, true)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJSONBlob+1))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	if int64(len(data)) != desc.Size || digest.Canonical.FromBytes(data) != desc.Digest {
		return nil, fmt.Errorf("blob %s: content does not match its descriptor's digest or size", desc.Digest)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	return data, nil
}

// writeBlob stores data as a blob and returns its digest.
func (l layout) writeBlob(data []byte) (digest.Digest, error) {
	d := digest.Canonical.FromBytes(data)
	f, tmp, err := l.createTemp()
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = l.commitBlob(tmp, d)
	}
	if err != nil {
		l.root.Remove(tmp)
		return "", err
	}
	return d, nil
}

// createTemp creates a new file beside the blobs, to become one.
func (l layout) createTemp() (*os.File, string, error) {
	dir := path.Join("blobs", digest.Canonical.String())
	if err := l.root.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	var b [8]byte
	rand.Read(b[:])
	name := path.Join(dir, ".remainroot-tmp-"+hex.EncodeToString(b[:]))
	f, err := l.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	return f, name, err
}

// commitBlob renames the temporary file tmp to the blob of d.
func (l layout) commitBlob(tmp string, d digest.Digest) error {
	p, err := blobPath(d)
	if err != nil {
		return err
	}
	return l.root.Rename(tmp, p)
}

// readIndex reads index.json, typed and raw (to keep fields this package
// does not know).
func (l layout) readIndex() (v1.Index, map[string]json.RawMessage, error) {
	var idx v1.Index
	var raw map[string]json.RawMessage
	f, err := l.root.Open("index.json")
	if err != nil {
		return idx, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJSONBlob+1))
	if err != nil {
		return idx, nil, fmt.Errorf("index.json: %w", err)
	}
	if len(data) > maxJSONBlob {
		return idx, nil, errors.New("index.json: too large")
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return idx, nil, fmt.Errorf("index.json: %w", err)
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return idx, nil, fmt.Errorf("index.json: %w", err)
	}
	return idx, raw, nil
}

// writeIndex replaces index.json (written aside, then renamed).
func (l layout) writeIndex(raw map[string]json.RawMessage) error {
	data, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	const tmp = ".index.json.remainroot-tmp"
	if err := l.root.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return l.root.Rename(tmp, "index.json")
}

// setField replaces one field of a raw JSON object.
func setField(raw map[string]json.RawMessage, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	raw[key] = data
	return nil
}
