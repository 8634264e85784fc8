package imagefix

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// benchImage is a synthetic image like a small Debian-based build: a 32
// MiB base layer of 2000 files (half random, half text) with real owners,
// and a build layer of 300 entries, 200 with owner records. Both gzip, as
// podman save writes them.
func benchImage(b *testing.B) string {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var base []testEntry
	for i := range 2000 {
		body := make([]byte, 16<<10)
		if i%2 == 0 {
			for j := range body {
				body[j] = byte(rng.Uint32())
			}
		} else {
			copy(body, bytes.Repeat([]byte(fmt.Sprintf("line %d of a text file\n", i)), 1000))
		}
		base = append(base, testEntry{name: fmt.Sprintf("usr/share/f%04d", i), uid: i % 3, gid: i % 5, body: string(body)})
	}
	var build []testEntry
	for i := range 300 {
		e := testEntry{name: fmt.Sprintf("usr/share/f%04d", i*5), body: "changed\n"}
		if i%3 != 0 {
			e.record = record(1000, 1000)
		}
		build = append(build, e)
	}
	return writeLayout(b, testLayer{tar: layerTar(b, base), gzip: true}, testLayer{tar: layerTar(b, build), gzip: true})
}

// copyLayout copies a layout directory (blobs and index.json).
func copyLayout(b *testing.B, src string) string {
	b.Helper()
	dst := b.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		b.Fatal(err)
	}
	return dst
}

// BenchmarkFix: fix (reads every layer's headers, rewrites the build
// layer) against recompressing every layer, the least that podman save
// (which writes gzip layers) does for the same image.
func BenchmarkFix(b *testing.B) {
	src := benchImage(b)
	b.Run("fix", func(b *testing.B) { fixCopies(b, src) })
	b.Run("gzip-every-layer", func(b *testing.B) {
		_, _, tars := readImage(b, src)
		for b.Loop() {
			for _, t := range tars {
				zw := gzip.NewWriter(io.Discard)
				zw.Write(t)
				zw.Close()
			}
		}
	})
}

// BenchmarkFixLayout fixes copies of the OCI layout in
// $REMAINROOT_BENCH_LAYOUT (e.g. `podman save --format oci-dir` of an image
// a mode full build made), to time a real image; skipped without it.
func BenchmarkFixLayout(b *testing.B) {
	src := os.Getenv("REMAINROOT_BENCH_LAYOUT")
	if src == "" {
		b.Skip("REMAINROOT_BENCH_LAYOUT is not set")
	}
	fixCopies(b, src)
}

// fixCopies times Fix of a fresh copy of the layout src per iteration.
func fixCopies(b *testing.B, src string) {
	for b.Loop() {
		b.StopTimer()
		dir := copyLayout(b, src)
		b.StartTimer()
		if _, err := Fix(dir, Options{BaseLayers: -1}); err != nil {
			b.Fatal(err)
		}
	}
}
