// Command sandboxfix is the test's runc wrapper for containerd's pod
// sandbox (pause) container, which no NRI plugin sees: containerd gives it
// devpts with gid=5, which a user namespace mapping one group cannot
// mount. For `create --bundle B` of a sandbox whose namespace maps one
// gid, it drops the devpts gid= option from B/config.json, then runs the
// real runc (set at build time: -ldflags "-X main.runc=PATH"). Containers
// are left to the NRI plugin.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
)

// runc is the real runtime.
var runc = "runc"

func main() {
	if i := slices.Index(os.Args, "--bundle"); i > 0 && i+1 < len(os.Args) && slices.Contains(os.Args, "create") {
		if err := fixSandbox(os.Args[i+1] + "/config.json"); err != nil {
			fmt.Fprintf(os.Stderr, "sandboxfix: %v\n", err)
			os.Exit(1)
		}
	}
	err := syscall.Exec(runc, append([]string{runc}, os.Args[1:]...), os.Environ())
	fmt.Fprintf(os.Stderr, "sandboxfix: exec %s: %v\n", runc, err)
	os.Exit(1)
}

func fixSandbox(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var spec map[string]any
	if err := json.Unmarshal(data, &spec); err != nil {
		return err
	}
	ann, _ := spec["annotations"].(map[string]any)
	if ann["io.kubernetes.cri.container-type"] != "sandbox" || !singleGID(spec) {
		return nil
	}
	mounts, _ := spec["mounts"].([]any)
	for _, m := range mounts {
		mount, _ := m.(map[string]any)
		if mount["type"] != "devpts" {
			continue
		}
		opts, _ := mount["options"].([]any)
		mount["options"] = slices.DeleteFunc(opts, func(o any) bool {
			s, _ := o.(string)
			return strings.HasPrefix(s, "gid=")
		})
	}
	out, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o600)
}

func singleGID(spec map[string]any) bool {
	linux, _ := spec["linux"].(map[string]any)
	maps, _ := linux["gidMappings"].([]any)
	var n float64
	for _, m := range maps {
		e, _ := m.(map[string]any)
		size, _ := e["size"].(float64)
		n += size
	}
	return n == 1
}
