package hook

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/remainroot/remainroot/attach/seccomp"
)

// filterForBundle chooses the seccomp filter from the container's
// config.json. The getter filter can be added to a thread lazily (at its
// first divergence) only if the container's process may still load seccomp
// filters: CAP_SYS_ADMIN in its effective set, or no_new_privs. Otherwise
// (podman's default capabilities) getters are traced from the start, while
// the runtime's init still has every capability.
func filterForBundle(bundle string) seccomp.Filter {
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return seccomp.FullFilter
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil || spec.Process == nil {
		return seccomp.FullFilter
	}
	p := spec.Process
	if p.NoNewPrivileges || (p.Capabilities != nil && slices.Contains(p.Capabilities.Effective, "CAP_SYS_ADMIN")) {
		return seccomp.SetterFilter
	}
	return seccomp.FullFilter
}
