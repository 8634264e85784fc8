package hook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/remainroot/remainroot/attach"
)

// AnnotationSupervisor is added by the precreate hook to the config it
// rewrites: the socket of the container's supervisor. The createRuntime
// hook leaves such a container to it.
const AnnotationSupervisor = "io.remainroot.supervisor"

// MaxConfigSize bounds the config.json the precreate hook reads.
const MaxConfigSize = 16 << 20

// rewritten is what the precreate hook makes of a container's config.
type rewritten struct {
	Config []byte
	// User is the process.user the runtime would have failed to switch
	// to (ids the namespace does not map), now run as 0:0 by the runtime
	// and given to the process by the supervisor at its execve; nil when
	// the runtime can switch on its own.
	User *attach.Identity
}

// rewriteConfig returns the container config with remainroot's seccomp
// listener in place: SCMP_ACT_NOTIFY for the calls of notified (taken out
// of the profile's unconditional ALLOW rules; calls the profile denies or
// allows only for some arguments stay as they are), linux.seccomp.
// listenerPath set to socket, and the supervisor annotation. A config
// without seccomp (unconfined) gets a profile that allows everything else.
// mapped says whether the namespace the container runs in maps a uid and
// gid pair; a process.user it does not map is run as root and returned.
// Everything the rewrite does not touch is kept byte for byte.
func rewriteConfig(data []byte, socket string, notified []string, mapped func(uid, gid uint32) bool) (rewritten, error) {
	var out rewritten
	if len(data) > MaxConfigSize {
		return out, fmt.Errorf("container config on stdin: larger than %d bytes", MaxConfigSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return out, errors.New("container config on stdin: empty input (is this program being run as a precreate hook?)")
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return out, fmt.Errorf("container config on stdin: invalid JSON: %w", err)
	}
	if doc == nil {
		return out, errors.New("container config on stdin: not a JSON object")
	}
	var linux map[string]json.RawMessage
	if err := unmarshalField(doc, "linux", &linux); err != nil {
		return out, err
	}
	if linux == nil {
		return out, errors.New("container config on stdin: no \"linux\" section (remainroot needs a Linux container)")
	}
	var sc *specs.LinuxSeccomp
	if err := unmarshalField(linux, "seccomp", &sc); err != nil {
		return out, err
	}
	sc, err := withNotify(sc, notified)
	if err != nil {
		return out, err
	}
	sc.ListenerPath = socket
	if err := marshalField(linux, "seccomp", sc); err != nil {
		return out, err
	}
	if err := marshalField(doc, "linux", linux); err != nil {
		return out, err
	}

	var process map[string]json.RawMessage
	if err := unmarshalField(doc, "process", &process); err != nil {
		return out, err
	}
	if process != nil {
		var user specs.User
		if err := unmarshalField(process, "user", &user); err != nil {
			return out, err
		}
		if !userMapped(user, mapped) {
			out.User = &attach.Identity{UID: user.UID, GID: user.GID, Groups: slices.Clone(user.AdditionalGids)}
			user.UID, user.GID, user.AdditionalGids = 0, 0, nil
			if err := marshalField(process, "user", user); err != nil {
				return out, err
			}
			if err := marshalField(doc, "process", process); err != nil {
				return out, err
			}
		}
	}

	var ann map[string]string
	if err := unmarshalField(doc, "annotations", &ann); err != nil {
		return out, err
	}
	if ann == nil {
		ann = map[string]string{}
	}
	ann[AnnotationSupervisor] = socket
	if err := marshalField(doc, "annotations", ann); err != nil {
		return out, err
	}
	cfg, err := json.Marshal(doc)
	if err != nil {
		return out, fmt.Errorf("encode the container config: %w", err)
	}
	out.Config = cfg
	return out, nil
}

// userMapped reports whether the runtime can switch to user by itself.
func userMapped(u specs.User, mapped func(uid, gid uint32) bool) bool {
	if !mapped(u.UID, u.GID) {
		return false
	}
	for _, g := range u.AdditionalGids {
		if !mapped(u.UID, g) { // the uid is known to be mapped: this asks about g
			return false
		}
	}
	return true
}

// withNotify returns a copy of sc in which the calls of notified go to the
// listener.
func withNotify(sc *specs.LinuxSeccomp, notified []string) (*specs.LinuxSeccomp, error) {
	if sc == nil {
		return &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Architectures: nativeArchitectures(),
			Syscalls:      []specs.LinuxSyscall{{Names: slices.Clone(notified), Action: specs.ActNotify}},
		}, nil
	}
	n := *sc
	if n.ListenerPath != "" {
		return nil, fmt.Errorf("linux.seccomp.listenerPath is already %q: the container has another seccomp agent, and a process can have only one", n.ListenerPath)
	}
	if n.DefaultAction == specs.ActNotify {
		return nil, errors.New("linux.seccomp.defaultAction is SCMP_ACT_NOTIFY: the profile already notifies every call")
	}
	allowed := make(map[string]bool)
	mentioned := make(map[string]bool)
	for _, r := range n.Syscalls {
		for _, name := range r.Names {
			mentioned[name] = true
			if r.Action == specs.ActAllow && len(r.Args) == 0 {
				allowed[name] = true
			}
		}
	}
	var notify []string
	for _, name := range notified {
		// Notified only where the profile lets the call run whatever its
		// arguments: a call it refuses stays refused.
		if allowed[name] || (!mentioned[name] && n.DefaultAction == specs.ActAllow) {
			notify = append(notify, name)
		}
	}
	var rules []specs.LinuxSyscall
	for _, r := range n.Syscalls {
		if r.Action == specs.ActNotify {
			return nil, fmt.Errorf("linux.seccomp has SCMP_ACT_NOTIFY rules (%v) without remainroot: the container has another seccomp agent", r.Names)
		}
		if r.Action == specs.ActAllow && len(r.Args) == 0 {
			r.Names = slices.DeleteFunc(slices.Clone(r.Names), func(name string) bool { return slices.Contains(notify, name) })
			if len(r.Names) == 0 {
				continue
			}
		}
		rules = append(rules, r)
	}
	if len(notify) > 0 {
		rules = append(rules, specs.LinuxSyscall{Names: notify, Action: specs.ActNotify})
	}
	n.Syscalls = rules
	return &n, nil
}

// nativeArchitectures lists the seccomp architectures of a profile that
// allows every ABI of this machine (as podman's default profile lists them).
func nativeArchitectures() []specs.Arch {
	switch runtime.GOARCH {
	case "amd64":
		return []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
	case "arm64":
		return []specs.Arch{specs.ArchAARCH64, specs.ArchARM}
	}
	return nil
}

func unmarshalField(doc map[string]json.RawMessage, key string, v any) error {
	for k := range doc {
		// Go's runtimes (runc) match keys case-insensitively, C ones (crun)
		// do not: a "Seccomp" beside the "seccomp" written here would be
		// a profile one runtime honours and another drops.
		if k != key && strings.EqualFold(k, key) {
			return fmt.Errorf("container config on stdin: %q: a key spelled %q too; runtimes disagree on which counts", key, k)
		}
	}
	raw, ok := doc[key]
	if !ok || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("container config on stdin: %q: %w", key, err)
	}
	return nil
}

func marshalField(doc map[string]json.RawMessage, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", key, err)
	}
	doc[key] = raw
	return nil
}
