package imagefix

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"
)

// FuzzFixLayer feeds arbitrary bytes as a build layer's tar: the fix
// either fails with a one-line error or writes a tar that reads back
// whole and carries no owner record.
func FuzzFixLayer(f *testing.F) {
	f.Add(layerTar(f, buildEntries))
	f.Add(layerTar(f, []testEntry{{name: "a/", typ: tar.TypeDir, record: []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0x0f}}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		lower := &ownerTree{}
		for _, p := range []string{"etc/shadow", "srv/www", "data/f", "a"} {
			lower.set(p, Owner{UID: 7, GID: 42}, p == "srv/www" || p == "a")
		}
		var out bytes.Buffer
		_, err := fixLayer(bytes.NewReader(data), &out, lower, true)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error on more than one line: %q", err)
			}
			return
		}
		tr := tar.NewReader(&out)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("the fixed tar does not read back: %v", err)
			}
			if _, ok := hdr.PAXRecords[ownerRecordKey]; ok {
				t.Fatalf("%q still carries a record", hdr.Name)
			}
		}
	})
}
