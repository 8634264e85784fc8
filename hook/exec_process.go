package hook

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/remainroot/remainroot/attach"
)

// maxProcessSpec bounds the process.json of an exec that is read.
const maxProcessSpec = 4 << 20

// execUser returns the user an exec asked for when the container's
// namespace cannot map it, from the process spec the runtime was given:
// podman (through conmon) runs `RUNTIME exec --process FILE`, and the
// runtime is the peer of its connection to the supervisor. The runtime
// itself cannot switch to such a user, and skips setgroups where the
// namespace denies it, so its calls alone would not tell the groups
// (additionalGids) the exec asked for. nil when the user is mapped or the
// spec cannot be found (then the runtime's own refused calls decide).
func execUser(runtimePid int, mapped func(uid, gid uint32) bool) (*attach.Identity, error) {
	if runtimePid <= 0 {
		return nil, nil
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", runtimePid))
	if err != nil {
		return nil, fmt.Errorf("the runtime's command line: %w", err)
	}
	path := processFlag(strings.Split(strings.TrimRight(string(data), "\x00"), "\x00"))
	if path == "" {
		return nil, nil
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("the exec's process spec: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("the exec's process spec %s is not a regular file", path)
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxProcessSpec+1))
	if err != nil || len(raw) > maxProcessSpec {
		return nil, fmt.Errorf("the exec's process spec %s: unreadable or too large", path)
	}
	var p specs.Process
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("the exec's process spec %s: %w", path, err)
	}
	if userMapped(p.User, mapped) {
		return nil, nil
	}
	return &attach.Identity{UID: p.User.UID, GID: p.User.GID, Groups: slices.Clone(p.User.AdditionalGids)}, nil
}

// processFlag finds the --process (-p) argument of a runtime's exec
// command line (runc, crun and youki all take it).
func processFlag(argv []string) string {
	for i, a := range argv {
		switch {
		case (a == "--process" || a == "-p") && i+1 < len(argv):
			return argv[i+1]
		case strings.HasPrefix(a, "--process="):
			return strings.TrimPrefix(a, "--process=")
		}
	}
	return ""
}
