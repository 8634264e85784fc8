package main

// A rootless native overlay storage of the bench's own, for (viii): the
// same fix-image and podman save measured on overlay as on the user's
// vfs storage, whose podman load copies a new layer's whole parent tree.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// overlayStorageConf is a storage.conf for a native overlay storage at
// GRAPHROOT; ignore_chown_errors as the single mapping needs. Rootless,
// podman 4.3 takes the graph root from rootless_storage_path (graphroot
// alone is ignored: the user's default store's would be used) and its
// libpod database from GRAPHROOT/libpod; the run root is always
// $XDG_RUNTIME_DIR/containers, shared with the user's vfs storage, whose
// state there is in vfs-* directories.
const overlayStorageConf = `[storage]
driver = "overlay"
graphroot = "GRAPHROOT"
rootless_storage_path = "GRAPHROOT"

[storage.options.overlay]
ignore_chown_errors = "true"
`

// overlayUser returns u with a native overlay storage in dir
// (CONTAINERS_STORAGE_CONF names its storage.conf, for podman and for
// fix-image's podman alike) holding a copy of fixImageBase from u's own
// storage (untimed); the storage goes with dir, its state in the run root
// with removeOverlayStorage.
func overlayUser(u podmanUser, dir string) (podmanUser, error) {
	root := filepath.Join(dir, "root")
	// The user reaches the storage.conf and the directory of the
	// workload's own files (filepath.Dir(dir)) as well.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return u, err
	}
	for _, d := range []string{dir, root} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return u, err
		}
		if err := os.Chown(d, u.uid, u.gid); err != nil {
			return u, err
		}
	}
	info, err := u.podman(time.Minute, "info", "--format", "{{.Store.GraphDriverName}}@{{.Store.GraphRoot}}+{{.Store.RunRoot}}")
	if err != nil {
		return u, err
	}
	from := "containers-storage:[" + strings.TrimSpace(info) + "]" + fixImageBase
	conf := filepath.Join(dir, "storage.conf")
	text := strings.ReplaceAll(overlayStorageConf, "GRAPHROOT", root)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return u, err
	}
	o := overlayStorageUser(u, dir)
	progress("(viii) fix-image: a native overlay storage in %s, %s copied into it (untimed)", dir, fixImageBase)
	if _, err := o.podman(10*time.Minute, "pull", "-q", from); err != nil {
		return u, fmt.Errorf("copy %s into the overlay storage: %w", fixImageBase, err)
	}
	got, err := o.podman(time.Minute, "info", "--format", "{{.Store.GraphDriverName}} {{.Store.GraphRoot}}")
	if err != nil {
		return u, err
	}
	if want := "overlay " + root; strings.TrimSpace(got) != want {
		return u, fmt.Errorf("the overlay storage's podman info says %q, not %q", strings.TrimSpace(got), want)
	}
	return o, nil
}

// overlayStorageUser is u with the storage.conf in dir.
func overlayStorageUser(u podmanUser, dir string) podmanUser {
	o := u
	o.env = append(append([]string{}, u.env...), "CONTAINERS_STORAGE_CONF="+filepath.Join(dir, "storage.conf"))
	return o
}

// overlayRunState are the overlay driver's directories in the run root
// (podman info's), which a rootless overlay storage creates there.
func overlayRunState(runRoot string) []string {
	var dirs []string
	for _, d := range []string{"overlay", "overlay-containers", "overlay-layers", "overlay-locks"} {
		dirs = append(dirs, filepath.Join(runRoot, d))
	}
	return dirs
}

// removeOverlayStorage removes the containers and images of the storage
// at dir (podman's own unmounting), once podman info confirms that o's
// podman uses it (never another storage), and its state in the run root
// unless that was there before (keep); its directory goes with the
// bench's.
func removeOverlayStorage(o podmanUser, dir string, keep map[string]bool) {
	got, err := o.podman(time.Minute, "info", "--format", "{{.Store.GraphDriverName}} {{.Store.GraphRoot}}")
	if err != nil || strings.TrimSpace(got) != "overlay "+filepath.Join(dir, "root") {
		return
	}
	o.podman(2*time.Minute, "rm", "-a", "-f", "-t", "0")
	o.podman(5*time.Minute, "rmi", "-a", "-f")
	run, err := o.podman(time.Minute, "info", "--format", "{{.Store.RunRoot}}")
	if err != nil {
		return
	}
	for _, d := range overlayRunState(strings.TrimSpace(run)) {
		if !keep[d] {
			os.RemoveAll(d)
		}
	}
}

// existingRunState are those of overlayRunState(u's run root) that exist.
func existingRunState(u podmanUser) map[string]bool {
	keep := map[string]bool{}
	run, err := u.podman(time.Minute, "info", "--format", "{{.Store.RunRoot}}")
	if err != nil {
		return nil
	}
	for _, d := range overlayRunState(strings.TrimSpace(run)) {
		if _, err := os.Stat(d); err == nil {
			keep[d] = true
		}
	}
	return keep
}
