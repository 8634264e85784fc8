package k8s

import (
	"encoding/json"
	"os"
	"testing"
)

// nestedSeccompProfile writes to path the profile a Localhost
// seccompProfile can give the pod: containers-common's default (podman's
// and CRI-O's RuntimeDefault) with the calls a nested rootless container
// needs and that profile allows only with a capability the pod lacks,
// allowed unconditionally: sethostname and setdomainname (the RUN
// container's UTS namespace), setns (joining its namespaces) and chroot
// (buildah's copier).
func nestedSeccompProfile(t *testing.T, defaults, path string) {
	t.Helper()
	data, err := os.ReadFile(defaults)
	if err != nil {
		t.Fatal(err)
	}
	var profile map[string]any
	if err := json.Unmarshal(data, &profile); err != nil {
		t.Fatalf("%s: %v", defaults, err)
	}
	extra := map[string]bool{"sethostname": true, "setdomainname": true, "setns": true, "chroot": true}
	rules, _ := profile["syscalls"].([]any)
	var kept []any
	for _, r := range rules {
		rule, _ := r.(map[string]any)
		if rule["action"] == "SCMP_ACT_ERRNO" {
			names, _ := rule["names"].([]any)
			var rest []any
			for _, n := range names {
				if s, _ := n.(string); !extra[s] {
					rest = append(rest, n)
				}
			}
			if len(rest) == 0 {
				continue
			}
			rule["names"] = rest
		}
		kept = append(kept, rule)
	}
	kept = append(kept, map[string]any{
		"names":  []string{"chroot", "setdomainname", "sethostname", "setns"},
		"action": "SCMP_ACT_ALLOW",
		"comment": "remainroot test/k8s: nested rootless containers (podman build) " +
			"in a pod without CAP_SYS_ADMIN or CAP_SYS_CHROOT",
	})
	profile["syscalls"] = kept
	out, err := json.MarshalIndent(profile, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}
