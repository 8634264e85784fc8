package imagestore

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestCacheRoundTrip(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "sub", "top")
	table := Table{{"/a b\n\"c", 1, 2, 0o2755}, {"/etc/shadow", 0, 42, 0o640}}
	if err := writeCache(file, "fp1", table); err != nil {
		t.Fatal(err)
	}
	got, err := readCache(file, "fp1")
	if err != nil || !reflect.DeepEqual(got, table) {
		t.Fatalf("got %v %v, want %v", got, err, table)
	}
	if _, err := readCache(file, "fp2"); err != errStale {
		t.Errorf("another fingerprint: %v, want stale", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(file))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	link := filepath.Join(dir, "link")
	os.Symlink(file, link)
	if _, err := readCache(link, "fp1"); err == nil {
		t.Error("a symlink was read")
	}
}

func TestPruneCache(t *testing.T) {
	dir := t.TempDir()
	old, recent := filepath.Join(dir, "old"), filepath.Join(dir, "recent")
	os.WriteFile(old, nil, 0o600)
	os.WriteFile(recent, nil, 0o600)
	long := time.Now().Add(-2 * cacheLifetime)
	os.Chtimes(old, long, long)
	pruneCache(dir, time.Now().Add(-cacheLifetime))
	if _, err := os.Stat(old); err == nil {
		t.Error("an old table was kept")
	}
	if _, err := os.Stat(recent); err != nil {
		t.Error("a recent table was removed")
	}
}

func TestDecodeTableRefuses(t *testing.T) {
	for name, text := range map[string]string{
		"no magic":      "x\nfp\n",
		"a bad line":    cacheMagic + "\nfp\n1 2\n",
		"a bad mode":    cacheMagic + "\nfp\n1 2 17777 \"/a\"\n",
		"a relative":    cacheMagic + "\nfp\n1 2 644 \"a\"\n",
		"an unclean":    cacheMagic + "\nfp\n1 2 644 \"/a/../b\"\n",
		"a big id":      cacheMagic + "\nfp\n4294967296 2 644 \"/a\"\n",
		"a bad quoting": cacheMagic + "\nfp\n1 2 644 \"/a\n",
	} {
		if _, err := decodeTable(stringsReader(text), "fp"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestCacheDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/x")
	if d, _ := CacheDir(0); d != "/x/remainroot/image-owners" {
		t.Errorf("got %s", d)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/h")
	if d, _ := CacheDir(0); d != "/h/.cache/remainroot/image-owners" {
		t.Errorf("got %s", d)
	}
}
