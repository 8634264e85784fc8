package hook

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigRoot(t *testing.T) {
	for config, want := range map[string]string{
		`{"root":{"path":"/g/vfs/dir/abc"}}`:       "/g/vfs/dir/abc",
		`{"root":{"path":"/g/overlay/x/merged/"}}`: "/g/overlay/x/merged",
		`{"root":{"path":"rootfs"}}`:               "",
		`{}`:                                       "",
		`not json`:                                 "",
	} {
		if got := configRoot([]byte(config)); got != want {
			t.Errorf("configRoot(%s) = %q, want %q", config, got, want)
		}
	}
}

func TestOwnersForBundle(t *testing.T) {
	// The early read is used when the bundle's root is the one it read;
	// otherwise the bundle's is read, and both are waited for at exit.
	var out syncBuffer
	s := &supervisor{log: slog.New(slog.NewTextHandler(&out, nil)), full: true}
	s.startEarlyOwners("/g/vfs/dir/abc")
	early := s.images
	bundle := t.TempDir()
	config := filepath.Join(bundle, "config.json")
	os.WriteFile(config, []byte(`{"root":{"path":"/g/vfs/dir/abc"}}`), 0o600)
	if got := s.ownersFor(bundle); got != early || len(s.reads) != 1 {
		t.Errorf("same root: got a read of its own (%d reads)", len(s.reads))
	}
	os.WriteFile(config, []byte(`{"root":{"path":"/g/vfs/dir/def"}}`), 0o600)
	got := s.ownersFor(bundle)
	if got == early || len(s.reads) != 2 {
		t.Errorf("another root: the early read used (%d reads)", len(s.reads))
	}
	for _, r := range s.reads {
		r.wait()
	}
	if src := got.Owners(); src != nil {
		t.Errorf("owners %v of a root outside any store", src)
	}
	if !strings.Contains(out.String(), "image owners read again from the bundle") {
		t.Errorf("log:\n%s", out.String())
	}
}
