package imagefix

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// memBlobs is a BlobSource of uncompressed layer tars; headersOnly counts
// the blobs opened without bodies, withBodies those opened with.
type memBlobs struct {
	tars                    map[digest.Digest][]byte
	headersOnly, withBodies []digest.Digest
}

func (m *memBlobs) OpenBlob(d digest.Digest, bodies bool) (io.ReadCloser, error) {
	data, ok := m.tars[d]
	if !ok {
		return nil, fs.ErrNotExist
	}
	if bodies {
		m.withBodies = append(m.withBodies, d)
	} else {
		m.headersOnly = append(m.headersOnly, d)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// A layout whose layer blobs a BlobSource gives is fixed as the whole
// layout is: the same manifest, the rewritten layer the only blob written,
// the base layer read for its headers only.
func TestFixWithBlobSource(t *testing.T) {
	cases := []struct {
		name  string
		build []byte
		bad   bool // the source gives another tar than the diff_id's
	}{
		{"records", layerTar(t, buildEntries[:len(buildEntries)-1]), false},
		{"a blob that is not its digest's", layerTar(t, buildEntries[:len(buildEntries)-1]), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := layerTar(t, baseEntries)
			whole := writeLayout(t, testLayer{tar: base}, testLayer{tar: c.build})
			wantRep, err := Fix(whole, Options{BaseLayers: -1})
			if err != nil {
				t.Fatal(err)
			}

			dir := writeLayout(t, testLayer{tar: base}, testLayer{tar: c.build})
			src := &memBlobs{tars: map[digest.Digest][]byte{}}
			for _, data := range [][]byte{base, c.build} {
				d := digest.FromBytes(data)
				src.tars[d] = data
				if err := os.Remove(filepath.Join(dir, "blobs", "sha256", d.Encoded())); err != nil {
					t.Fatal(err)
				}
			}
			if c.bad {
				forged := bytes.Clone(c.build) // a body changed on disk
				forged[bytes.Index(forged, []byte("app:!:"))] ^= 1
				src.tars[digest.FromBytes(c.build)] = forged
			}
			rep, err := Fix(dir, Options{BaseLayers: -1, Blobs: src})
			if c.bad {
				if err == nil || !strings.Contains(err.Error(), "does not match") || strings.Contains(err.Error(), "\n") {
					t.Fatalf("got %v, want one line saying the blob does not match", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rep.Images[0].New != wantRep.Images[0].New || rep.Images[0].Config != wantRep.Images[0].Config || rep.Images[0].Config == "" {
				t.Errorf("manifest %s config %s, want %s and %s as from the whole layout", rep.Images[0].New, rep.Images[0].Config,
					wantRep.Images[0].New, wantRep.Images[0].Config)
			}
			if len(src.withBodies) != 1 || src.withBodies[0] != digest.FromBytes(c.build) {
				t.Errorf("opened with bodies: %v, want the build layer only", src.withBodies)
			}
			blobs, _ := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
			for _, b := range blobs {
				if _, isLayer := src.tars[digest.NewDigestFromEncoded(digest.SHA256, b.Name())]; isLayer {
					t.Errorf("a source's blob was written: %s", b.Name())
				}
			}
		})
	}
}
