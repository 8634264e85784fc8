package nri

import (
	"encoding/json"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// sandboxTypeAnnotation is containerd's mark of a pod's sandbox (pause)
// container in its config.json.
const sandboxTypeAnnotation = "io.kubernetes.cri.container-type"

// fixSandboxSpec rewrites the config.json at path of a pod's sandbox
// container so that a user namespace mapping few groups can start it:
// devpts without a gid= option the namespace does not map. No NRI event
// adjusts a sandbox, and containerd gives it devpts gid=5. Other configs
// and fields are left byte for byte. It reports the option dropped.
func fixSandboxSpec(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read the bundle's config: %w", err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	var head struct {
		Annotations map[string]string `json:"annotations"`
		Linux       *struct {
			GIDMappings []specs.LinuxIDMapping `json:"gidMappings"`
		} `json:"linux"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if head.Annotations[sandboxTypeAnnotation] != "sandbox" || head.Linux == nil || len(head.Linux.GIDMappings) == 0 {
		return "", nil
	}
	var mounts []specs.Mount
	if raw, ok := doc["mounts"]; ok {
		if err := json.Unmarshal(raw, &mounts); err != nil {
			return "", fmt.Errorf("%s: mounts: %w", path, err)
		}
	}
	maps := idMaps{GIDs: head.Linux.GIDMappings}
	var dropped string
	for i, m := range mounts {
		if m.Type != "devpts" {
			continue
		}
		if mounts[i].Options, dropped = withoutUnmappedGID(m.Options, maps); dropped != "" {
			break
		}
	}
	if dropped == "" {
		return "", nil
	}
	if doc["mounts"], err = json.Marshal(mounts); err != nil {
		return "", err
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return "", fmt.Errorf("write the bundle's config: %w", err)
	}
	return dropped, nil
}
