package nri

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestFixSandboxSpec(t *testing.T) {
	const devpts = `{"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","newinstance","mode=0620","gid=5"]}`
	config := func(kind, gidMaps string) string {
		return `{"ociVersion":"1.2.0","x-unknown":{"kept":true},"mounts":[` + devpts + `],` +
			`"linux":{"gidMappings":` + gidMaps + `},"annotations":{"io.kubernetes.cri.container-type":"` + kind + `"}}`
	}
	tests := []struct {
		name        string
		config      string
		wantDropped string
	}{
		{name: "single-id sandbox", config: config("sandbox", `[{"containerID":0,"hostID":200000,"size":1}]`), wantDropped: "gid=5"},
		{name: "sandbox mapping gid 5", config: config("sandbox", `[{"containerID":0,"hostID":200000,"size":65536}]`)},
		{name: "sandbox without user namespace", config: config("sandbox", `null`)},
		{name: "container: the NRI plugin's", config: config("container", `[{"containerID":0,"hostID":200000,"size":1}]`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(path, []byte(tt.config), 0o600); err != nil {
				t.Fatal(err)
			}
			dropped, err := fixSandboxSpec(path)
			if err != nil {
				t.Fatal(err)
			}
			if dropped != tt.wantDropped {
				t.Errorf("dropped %q, want %q", dropped, tt.wantDropped)
			}
			data, _ := os.ReadFile(path)
			if tt.wantDropped == "" {
				if string(data) != tt.config {
					t.Errorf("config changed:\n%s", data)
				}
				return
			}
			var got struct {
				Unknown map[string]bool `json:"x-unknown"`
				Mounts  []struct {
					Options []string `json:"options"`
				} `json:"mounts"`
			}
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if !got.Unknown["kept"] || len(got.Mounts) != 1 || slices.Contains(got.Mounts[0].Options, "gid=5") || !slices.Contains(got.Mounts[0].Options, "newinstance") {
				t.Errorf("rewritten config %s: want devpts without gid=5, the rest kept", data)
			}
		})
	}
}

func TestRuntimeWrapperArgs(t *testing.T) {
	for argv0, want := range map[string]string{
		"/usr/local/bin/remainroot-runc": "runc", "remainroot-crun": "crun",
		"/usr/local/bin/remainroot": "", "remainroot-dev": "", "runc": "",
	} {
		if got := WrappedRuntime(argv0); got != want {
			t.Errorf("WrappedRuntime(%q) = %q, want %q", argv0, got, want)
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--root", "/run/r", "--log", "l.json", "create", "--bundle", "/b", "--pid-file", "p", "id"}, "/b"},
		{[]string{"create", "-b", "/b", "id"}, "/b"},
		{[]string{"create", "--bundle=/b", "id"}, "/b"},
		{[]string{"create", "id"}, "."},
		{[]string{"start", "id"}, ""},
		{[]string{"exec", "--process", "p.json", "id"}, ""},
	} {
		if got := createBundle(tt.args); got != tt.want {
			t.Errorf("createBundle(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}
