package nri

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/nri/pkg/api"
)

// mountChange is one mount the plugin replaces, and why (logged).
type mountChange struct {
	Mount  *api.Mount
	Reason string
}

// hostSysOptions mount the host's /sys into a host-network pod: read-only,
// as the runtimes mount sysfs for an unprivileged container.
var hostSysOptions = []string{"rbind", "ro", "nosuid", "noexec", "nodev"}

// runnableMounts returns the mounts a container in a user namespace must
// have replaced to start at all (maps: the namespace's mappings, nil when
// not known):
//   - devpts with a gid= option the namespace does not map (the runtimes'
//     gid=5): the kernel refuses the mount (runc: "mount devpts ...
//     invalid argument"); without the option new ptys get the creator's
//     group;
//   - sysfs in a pod without a network namespace of its own (host
//     network): a user namespace cannot mount sysfs for the host's
//     network namespace (EPERM); the host's /sys is bound read-only
//     instead, when hostSys allows.
func runnableMounts(ctr *api.Container, maps *idMaps, hostSys bool) []mountChange {
	var out []mountChange
	for _, m := range ctr.GetMounts() {
		switch m.GetType() {
		case "devpts":
			if maps == nil {
				continue
			}
			opts, dropped := withoutUnmappedGID(m.GetOptions(), *maps)
			if dropped != "" {
				out = append(out, mountChange{
					Mount:  &api.Mount{Destination: m.Destination, Type: m.Type, Source: m.Source, Options: opts},
					Reason: fmt.Sprintf("devpts option %s: the pod's user namespace does not map that group", dropped),
				})
			}
		case "sysfs":
			if hostSys && !hasNamespace(ctr, "network") {
				out = append(out, mountChange{
					Mount:  &api.Mount{Destination: m.Destination, Type: "bind", Source: "/sys", Options: slices.Clone(hostSysOptions)},
					Reason: "host-network pod: its user namespace cannot mount sysfs; the host's /sys is bound read-only",
				})
			}
		}
	}
	return out
}

// withoutUnmappedGID returns opts without a gid=N option whose group the
// namespace does not map, and the option dropped ("" when none).
func withoutUnmappedGID(opts []string, maps idMaps) ([]string, string) {
	for i, o := range opts {
		v, ok := strings.CutPrefix(o, "gid=")
		if !ok {
			continue
		}
		gid, err := strconv.ParseUint(v, 10, 32)
		if err == nil && maps.mapsGID(uint32(gid)) {
			return opts, ""
		}
		return slices.Delete(slices.Clone(opts), i, i+1), o
	}
	return opts, ""
}
