package hook

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/remainroot/remainroot/imagestore"
	"github.com/remainroot/remainroot/shim"
)

// imageOwners finds the owners the container's image gives its files, for
// mode full: the store from the bundle path podman gives the runtime
// (<graphroot>/<driver>-containers/<id>/userdata), the image's top layer
// from the store's containers.json (a build's RUN container is there too),
// the owners from the layers' tar-split files (cached per layer), each
// looked up in the container's root filesystem (config.json's root.path).
// Where any of it is missing or unreadable (another store, a partial pull,
// --rootfs) it logs why, once, and returns nil: files then show what they
// show without image owners.
func imageOwners(log *slog.Logger, bundle, id string) shim.OwnerSource {
	return imageOwnersOfRoot(log, bundle, "", id)
}

// imageOwnersOfRoot is imageOwners for the root filesystem rootfs ("":
// the bundle's); with no bundle (the precreate config, before the
// runtime has one) the store and layer are found from rootfs alone.
func imageOwnersOfRoot(log *slog.Logger, bundle, rootfs, id string) shim.OwnerSource {
	start := time.Now()
	owners, n, err := readImageOwners(log, bundle, rootfs, id)
	if err != nil {
		log.Info("image owners not used: files without an owner record show the store's", "err", err)
		return nil
	}
	notRoot := owners.NotRoot()
	log.Info("image owners", "files", len(owners), "not-root", len(notRoot), "paths", n,
		"took", time.Since(start).Round(time.Microsecond))
	if len(notRoot) == 0 {
		// Only set-id bits and sticky directories of root's, which the
		// store applied: nothing to write in, stats keep their one stop.
		return nil
	}
	return notRoot
}

// readImageOwners does imageOwners' work; n is the number of paths the
// image gives owners.
func readImageOwners(log *slog.Logger, bundle, rootfs, id string) (imagestore.Owners, int, error) {
	if rootfs == "" {
		var err error
		if rootfs, err = bundleRootfs(bundle); err != nil {
			return nil, 0, err
		}
	}
	store, top, err := imageTop(bundle, rootfs, id)
	if err != nil {
		return nil, 0, err
	}
	cacheDir, err := imageOwnersCacheDir()
	if err != nil {
		log.Debug("image owners: no cache", "err", err)
	}
	table, cached, err := store.Owners(top, cacheDir, log)
	if err != nil {
		return nil, 0, err
	}
	owners, missing, err := imagestore.Resolve(rootfs, table)
	if err != nil {
		return nil, 0, err
	}
	log.Debug("image owners read", "store", store.GraphRoot, "driver", store.Driver, "top", top,
		"cached", cached, "missing", missing)
	return owners, len(table), nil
}

// imageTop finds the store and the image's top layer: from podman's
// bundle path and the container's id, else from the root filesystem's
// path, or what is mounted there (a build's RUN container: buildah's
// bundle is a directory of its own, its root a bind mount of the
// container's layer).
func imageTop(bundle, rootfs, id string) (imagestore.Store, string, error) {
	var store imagestore.Store
	var dirID string
	err := errors.New("no bundle yet")
	if bundle != "" {
		store, dirID, err = imagestore.StoreOfBundle(bundle)
	}
	if err == nil {
		if id == "" {
			id = dirID
		}
		top, err := store.ContainerTopLayer(id)
		return store, top, err
	}
	source := rootfs
	if mountinfo, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		source = imagestore.MountSource(mountinfo, rootfs)
	}
	store, layer, rerr := imagestore.StoreOfRootfs(source)
	if rerr != nil {
		return store, "", fmt.Errorf("%w; %w", err, rerr)
	}
	top, err := store.LayerTop(layer)
	return store, top, err
}

// imageOwnersCacheDir is the cache of the user the hook runs for: under
// rootless podman the hook is uid 0 of the user's namespace, with the
// empty environment of a hook.
func imageOwnersCacheDir() (string, error) {
	uid, err := strconv.Atoi(hostUID())
	if err != nil {
		return "", err
	}
	return imagestore.CacheDir(uid)
}

// bundleRootfs is the root filesystem config.json names, as the hook's
// mount namespace sees it.
func bundleRootfs(bundle string) (string, error) {
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return "", err
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return "", fmt.Errorf("%s/config.json: %w", bundle, err)
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return "", fmt.Errorf("%s/config.json names no root", bundle)
	}
	if filepath.IsAbs(spec.Root.Path) {
		return spec.Root.Path, nil
	}
	return filepath.Join(bundle, spec.Root.Path), nil
}
