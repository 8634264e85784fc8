package hook

import (
	"encoding/json"
	"path/filepath"
)

// configRoot is a container config's root path when it is absolute ("":
// none, or relative to a bundle not made yet).
func configRoot(config []byte) string {
	var head struct {
		Root *struct {
			Path string `json:"path"`
		} `json:"root"`
	}
	if json.Unmarshal(config, &head) != nil || head.Root == nil || !filepath.IsAbs(head.Root.Path) {
		return ""
	}
	return filepath.Clean(head.Root.Path)
}

// startEarlyOwners starts reading the image owners from the precreate
// config's root (--rootfs), before the runtime connects: the read then
// overlaps the runtime's create and start.
func (s *supervisor) startEarlyOwners(rootfs string) {
	if !s.full || rootfs == "" {
		return
	}
	s.earlyRootfs = rootfs
	s.images = startImageOwnersOfRoot(s.log, "", rootfs, "")
	s.reads = append(s.reads, s.images)
}

// ownersFor gives the image owners of the container whose bundle the
// runtime's message names: the early read when the bundle's root is the
// one it read, else a read of the bundle's (the early one is then only
// waited for at exit, its cache written whole).
func (s *supervisor) ownersFor(bundle string) *pendingOwners {
	if s.images != nil {
		root, err := bundleRootfs(bundle)
		if err == nil && filepath.Clean(root) == s.earlyRootfs {
			return s.images
		}
		s.log.Info("image owners read again from the bundle: its root is not the precreate config's",
			"config-root", s.earlyRootfs, "bundle", bundle, "err", err)
	}
	p := startImageOwners(s.log, bundle, s.id)
	s.reads = append(s.reads, p)
	return p
}
