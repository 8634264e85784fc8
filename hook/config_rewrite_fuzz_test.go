package hook

import (
	"encoding/json"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// FuzzRewriteConfig: whatever config a container's author wrote, the
// precreate hook gives a config that names the listener and notifies only
// calls the profile allowed, or one error line; never a panic.
func FuzzRewriteConfig(f *testing.F) {
	for _, s := range []string{podmanLike, `{"linux":{}}`, `{"process":{"user":{"uid":1000,"gid":1000,"additionalGids":[1]}},"linux":{}}`,
		`{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["setuid"],"action":"SCMP_ACT_ERRNO"}]}}}`,
		`{"linux":{"seccomp":null},"annotations":null}`, `[]`, `null`, `{"linux":{"seccomp":{"syscalls":[{}]}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := rewriteConfig(data, "/run/remainroot/sup-f.sock", testNotified, onlyRoot)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error spans lines: %q", err)
			}
			return
		}
		var d decoded
		if err := json.Unmarshal(out.Config, &d); err != nil {
			t.Fatalf("rewritten config is not JSON: %v", err)
		}
		sc := d.Linux.Seccomp
		if sc == nil || sc.ListenerPath != "/run/remainroot/sup-f.sock" || d.Annotations[AnnotationSupervisor] == "" {
			t.Fatalf("no listener in %s", out.Config)
		}
		// A call the original profile refused must not become notified.
		var in struct {
			Linux struct{ Seccomp *specs.LinuxSeccomp }
		}
		json.Unmarshal(data, &in)
		if in.Linux.Seccomp == nil {
			return
		}
		for _, r := range sc.Syscalls {
			if r.Action != specs.ActNotify {
				continue
			}
			for _, name := range r.Names {
				allowed := false
				mentioned := false
				for _, o := range in.Linux.Seccomp.Syscalls {
					for _, n := range o.Names {
						if n == name {
							mentioned = true
							allowed = allowed || (o.Action == specs.ActAllow && len(o.Args) == 0)
						}
					}
				}
				if !allowed && (mentioned || in.Linux.Seccomp.DefaultAction != specs.ActAllow) {
					t.Errorf("%s notified though the profile did not allow it", name)
				}
			}
		}
	})
}

// FuzzParseAgentMessage: any runtime message is accepted with a listener
// among its descriptors, or refused with one line; never a panic.
func FuzzParseAgentMessage(f *testing.F) {
	for _, s := range agentShapes {
		f.Add([]byte(s), 1)
	}
	f.Add([]byte(`{"fds":["seccompFd","x"]}`), 2)
	f.Fuzz(func(t *testing.T, data []byte, nfds int) {
		st, err := parseAgentMessage(data, nfds)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error spans lines: %q", err)
			}
			return
		}
		if len(st.Fds) != nfds || st.Pid < 0 || st.State.Pid < 0 {
			t.Errorf("accepted %+v with %d descriptors", st, nfds)
		}
	})
}
