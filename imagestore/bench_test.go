package imagestore

import (
	"compress/gzip"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// benchStore is a vfs store with one layer of n entries, 1% of them not
// owned by root, and its top layer.
func benchStore(b testing.TB, n int) (Store, string) {
	s := Store{GraphRoot: b.TempDir(), Driver: "vfs"}
	os.MkdirAll(s.dir("layers"), 0o700)
	if err := os.WriteFile(filepath.Join(s.dir("layers"), "layers.json"), []byte(`[{"id":"top"}]`), 0o600); err != nil {
		b.Fatal(err)
	}
	writeBenchLayer(b, s, "top", n)
	return s, "top"
}

// writeBenchLayer writes the tar-split of a layer of n entries, 1% of them
// not owned by root.
func writeBenchLayer(b testing.TB, s Store, id string, n int) {
	f, err := os.Create(s.TarSplitPath(id))
	if err != nil {
		b.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	writeSyntheticTarSplit(b, zw, n, 100)
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	f.Close()
}

// BenchmarkOwners50k: the owners of a 50,000-entry image read from its
// tar-split (a container's first start on the image).
func BenchmarkOwners50k(b *testing.B) {
	s, top := benchStore(b, 50000)
	log := slog.New(slog.DiscardHandler)
	cpu := cpuTime()
	for b.Loop() {
		if t, _, err := s.Owners(top, "", log); err != nil || len(t) != 500 {
			b.Fatalf("%d entries, %v", len(t), err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user and system time in nanoseconds: what a
// benchmark costs on a machine whose other load makes its wall-clock time
// say little.
func cpuTime() int64 {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkOwners50kCached: the same from the cache (every later start).
func BenchmarkOwners50kCached(b *testing.B) {
	s, top := benchStore(b, 50000)
	log := slog.New(slog.DiscardHandler)
	cache := b.TempDir()
	s.Owners(top, cache, log)
	cpu := cpuTime()
	for b.Loop() {
		if t, cached, err := s.Owners(top, cache, log); err != nil || !cached || len(t) != 500 {
			b.Fatalf("%d entries, cached %v, %v", len(t), cached, err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkOwners50kOnCachedBase: an image of a 1,000-entry layer on the
// cached 50,000-entry base (a new image on a known base): only the top
// layer's tar-split is read.
func BenchmarkOwners50kOnCachedBase(b *testing.B) {
	s, _ := benchStore(b, 50000)
	os.Rename(s.TarSplitPath("top"), s.TarSplitPath("base"))
	if err := os.WriteFile(filepath.Join(s.dir("layers"), "layers.json"), []byte(`[{"id":"base"},{"id":"top","parent":"base"}]`), 0o600); err != nil {
		b.Fatal(err)
	}
	writeBenchLayer(b, s, "top", 1000)
	log := slog.New(slog.DiscardHandler)
	cache := b.TempDir()
	s.Owners("top", cache, log)
	cpu := cpuTime()
	for b.Loop() {
		os.Remove(filepath.Join(cache, s.cacheName("top")))
		if t, cached, err := s.Owners("top", cache, log); err != nil || cached || len(t) != 500 {
			b.Fatalf("%d entries, cached %v, %v", len(t), cached, err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkResolve500: mapping 500 entries (the 50,000-entry image's
// non-root files) onto a root filesystem.
func BenchmarkResolve500(b *testing.B) {
	root := b.TempDir()
	var table Table
	for i := range 500 {
		d := filepath.Join(root, "usr/share", fmt.Sprintf("d%d", i/20))
		os.MkdirAll(d, 0o755)
		p := filepath.Join(d, fmt.Sprintf("f%d", i))
		os.WriteFile(p, nil, 0o644)
		table = append(table, Entry{Path: p[len(root):], GID: 42, Mode: 0o644})
	}
	cpu := cpuTime()
	for b.Loop() {
		if o, missing, err := Resolve(root, table); err != nil || missing != 0 || len(o) != 500 {
			b.Fatalf("%d owners, %d missing, %v", len(o), missing, err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// TestMillionEntries reads a layer of a million entries, half of them not
// owned by root: the table's bound stops it, and the reader's memory does
// not grow with the entries it has passed.
func TestMillionEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("a million entries")
	}
	r, w := io.Pipe()
	go func() {
		writeSyntheticTarSplit(t, w, 1_000_000, 0)
		w.Close()
	}()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n := 0
	err := readTarSplit(r, func(*header) error {
		if n++; n%200_000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&after)
			if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 64<<20 {
				return fmt.Errorf("the heap grew by %d bytes after %d entries", grown, n)
			}
		}
		return nil
	})
	if err != nil || n != 1_000_000 {
		t.Fatalf("%d entries, %v", n, err)
	}
}
