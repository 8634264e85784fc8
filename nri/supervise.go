package nri

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/containerd/nri/pkg/api"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/remainroot/remainroot/hook"
)

// supervised is what the precreate hook's code makes of a container.
type supervised struct {
	// Seccomp is the container's policy with remainroot's listener.
	Seccomp *api.LinuxSeccomp
	// Socket is the supervisor's, for the io.remainroot.supervisor
	// annotation by which the createRuntime hook leaves the container to
	// the supervisor.
	Socket  string
	Process *os.Process
}

// superviseFunc starts a supervisor for a config.json (hook.Supervise; a
// fake in tests).
type superviseFunc func(config []byte, opts hook.SupervisorOptions) (hook.Supervised, error)

// supervise pipes the container, as the config.json the runtime will get,
// through the precreate hook's code and returns the policy to set.
// maps are the pod's id mappings, nil when unknown (then the runtime's
// refused set*id calls tell the supervisor the user).
func supervise(start superviseFunc, ctr *api.Container, ann map[string]string, maps *idMaps, opts hook.SupervisorOptions) (supervised, error) {
	cfg, err := containerConfig(ctr, ann, maps)
	if err != nil {
		return supervised{}, err
	}
	sup, err := start(cfg, opts)
	if err != nil {
		return supervised{}, err
	}
	var out struct {
		Linux struct {
			Seccomp *specs.LinuxSeccomp `json:"seccomp"`
		} `json:"linux"`
	}
	if err := json.Unmarshal(sup.Config, &out); err != nil || out.Linux.Seccomp == nil {
		stopSupervisor(sup.Process)
		return supervised{}, fmt.Errorf("internal: the rewritten config has no seccomp policy (%v)", err)
	}
	return supervised{Seccomp: api.FromOCILinuxSeccomp(out.Linux.Seccomp), Socket: sup.Socket, Process: sup.Process}, nil
}

// containerConfig is the part of a container's config.json that the
// precreate rewrite reads: the seccomp policy, the process's user, the
// user namespace with its mappings, the annotations.
func containerConfig(ctr *api.Container, ann map[string]string, maps *idMaps) ([]byte, error) {
	type process struct {
		User specs.User `json:"user"`
	}
	type linux struct {
		Namespaces  []specs.LinuxNamespace `json:"namespaces,omitempty"`
		UIDMappings []specs.LinuxIDMapping `json:"uidMappings,omitempty"`
		GIDMappings []specs.LinuxIDMapping `json:"gidMappings,omitempty"`
		Seccomp     *specs.LinuxSeccomp    `json:"seccomp,omitempty"`
	}
	cfg := struct {
		OCIVersion  string            `json:"ociVersion"`
		Process     process           `json:"process"`
		Linux       linux             `json:"linux"`
		Annotations map[string]string `json:"annotations"`
	}{OCIVersion: specs.Version, Annotations: ann}
	if u := ctr.GetUser(); u != nil {
		cfg.Process.User = specs.User{UID: u.GetUid(), GID: u.GetGid(), AdditionalGids: u.GetAdditionalGids()}
	}
	cfg.Linux.Seccomp = ociSeccomp(ctr.GetLinux().GetSeccompPolicy())
	if maps != nil {
		// A namespace of the config's own: the rewrite checks the user
		// against these mappings, not the plugin's.
		cfg.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.UserNamespace}}
		cfg.Linux.UIDMappings, cfg.Linux.GIDMappings = maps.UIDs, maps.GIDs
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode the container's config: %w", err)
	}
	return data, nil
}
