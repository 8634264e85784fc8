package nri

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/nri/pkg/api"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/remainroot/remainroot/hook"
)

// idMaps are the id mappings of a container's user namespace.
type idMaps struct {
	UIDs, GIDs []specs.LinuxIDMapping
}

// mapsGID reports whether gid (inside) is mapped.
func (m idMaps) mapsGID(gid uint32) bool {
	for _, e := range m.GIDs {
		if uint64(gid) >= uint64(e.ContainerID) && uint64(gid) < uint64(e.ContainerID)+uint64(e.Size) {
			return true
		}
	}
	return false
}

// userNamespace returns the container's user namespace entry, nil when it
// shares the host's.
func userNamespace(ctr *api.Container) *api.LinuxNamespace {
	for _, ns := range ctr.GetLinux().GetNamespaces() {
		if ns.GetType() == "user" {
			return ns
		}
	}
	return nil
}

// hasNamespace reports whether the container gets a namespace of type typ
// of its own or its pod's (not the host's).
func hasNamespace(ctr *api.Container, typ string) bool {
	for _, ns := range ctr.GetLinux().GetNamespaces() {
		if ns.GetType() == typ {
			return true
		}
	}
	return false
}

// readIDMaps reads the mappings of the user namespace at nsPath, which
// NRI gives as /proc/PID/ns/user (the pod's sandbox process, whose
// namespace the container joins): NRI does not pass the mappings
// themselves. procRoot is /proc but for tests.
func readIDMaps(procRoot, nsPath string) (idMaps, error) {
	rel, ok := strings.CutPrefix(nsPath, "/proc/")
	if !ok || !strings.HasSuffix(rel, "/ns/user") {
		return idMaps{}, fmt.Errorf("user namespace %q: not a /proc/PID/ns/user path", nsPath)
	}
	pidDir := filepath.Join(procRoot, strings.TrimSuffix(rel, "/ns/user"))
	uids, err := readMapFile(filepath.Join(pidDir, "uid_map"))
	if err != nil {
		return idMaps{}, err
	}
	gids, err := readMapFile(filepath.Join(pidDir, "gid_map"))
	if err != nil {
		return idMaps{}, err
	}
	return idMaps{UIDs: uids, GIDs: gids}, nil
}

func readMapFile(path string) ([]specs.LinuxIDMapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the pod's id mappings: %w", err)
	}
	return hook.ParseIDMappings(string(data)), nil
}
