package hook

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImageOwnersElsewhere(t *testing.T) {
	// A bundle outside any store (runc run by hand, --rootfs): no owners,
	// and one line in the log that says why.
	bundle := t.TempDir()
	os.WriteFile(filepath.Join(bundle, "config.json"), []byte(`{"root":{"path":"rootfs"}}`), 0o600)
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	if src := imageOwners(log, bundle, "c1"); src != nil {
		t.Errorf("owners %v, want none", src)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "image owners not used") || !strings.Contains(lines[0], "not <graphroot>") {
		t.Errorf("log:\n%s", out.String())
	}
}

func TestBundleRootfs(t *testing.T) {
	bundle := t.TempDir()
	os.WriteFile(filepath.Join(bundle, "config.json"), []byte(`{"root":{"path":"/g/vfs/dir/abc"}}`), 0o600)
	if got, err := bundleRootfs(bundle); err != nil || got != "/g/vfs/dir/abc" {
		t.Errorf("got %q, %v", got, err)
	}
	os.WriteFile(filepath.Join(bundle, "config.json"), []byte(`{"root":{"path":"rootfs"}}`), 0o600)
	if got, err := bundleRootfs(bundle); err != nil || got != filepath.Join(bundle, "rootfs") {
		t.Errorf("got %q, %v", got, err)
	}
	os.WriteFile(filepath.Join(bundle, "config.json"), []byte(`{}`), 0o600)
	if _, err := bundleRootfs(bundle); err == nil {
		t.Error("no root: no error")
	}
}
