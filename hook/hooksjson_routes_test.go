package hook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	hooks "go.podman.io/common/pkg/hooks"
	current "go.podman.io/common/pkg/hooks/1.0.0"

	"github.com/remainroot/remainroot/config"
)

// writeHook writes doc as name in a new directory next to an existing
// "binary" (hooks.Read requires hook.path to exist).
func writeHook(t *testing.T, name string, doc func(bin string) ([]byte, error)) (dir string, data []byte) {
	t.Helper()
	dir = t.TempDir()
	bin := filepath.Join(t.TempDir(), "remainroot")
	if err := os.WriteFile(bin, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := doc(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, data
}

// The precreate hook validates only where podman reads it, with its
// extension stages; buildah, which loads hooks without them, refuses it:
// the reason it has a directory of its own.
func TestPrecreateHooksJSON(t *testing.T) {
	dir, data := writeHook(t, config.PrecreateFileName, PrecreateHooksJSON)
	all := map[string]*current.Hook{}
	if err := hooks.ReadDir(dir, []string{"precreate", "poststop"}, all); err != nil {
		t.Fatalf("podman's view: %v", err)
	}
	h := all[config.PrecreateFileName]
	if h == nil || strings.Join(h.Hook.Args, " ") != "remainroot hook precreate" || strings.Join(h.Stages, ",") != "precreate" {
		t.Fatalf("hook %+v\n%s", h, data)
	}
	if ok, err := h.When.Match(&rspec.Spec{Annotations: map[string]string{config.AnnotationMode: "full"}}, map[string]string{config.AnnotationMode: "full"}, false); err != nil || !ok {
		t.Errorf("does not match an annotated container: %v %v", ok, err)
	}
	if ok, _ := h.When.Match(&rspec.Spec{}, nil, false); ok {
		t.Error("matches a container without the annotation")
	}
	if err := hooks.ReadDir(dir, nil, map[string]*current.Hook{}); err == nil || !strings.Contains(err.Error(), "unknown stage") {
		t.Errorf("buildah's view (no extension stages): %v, want unknown stage", err)
	}
}

func TestBuildHooksJSON(t *testing.T) {
	for _, m := range []config.Mode{config.ModeCreds, config.ModeFull} {
		dir, data := writeHook(t, config.BuildFileName, func(bin string) ([]byte, error) { return BuildHooksJSON(bin, m) })
		all := map[string]*current.Hook{}
		// buildah loads build hooks without extension stages.
		if err := hooks.ReadDir(dir, nil, all); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		h := all[config.BuildFileName]
		if want := "remainroot hook --mode " + m.String(); h == nil || strings.Join(h.Hook.Args, " ") != want {
			t.Fatalf("%s: args %v, want %q\n%s", m, h, want, data)
		}
		// RUN containers carry no annotations: the hook matches them all.
		if ok, err := h.When.Match(&rspec.Spec{}, nil, false); err != nil || !ok {
			t.Errorf("%s: does not match a RUN container without annotations: %v %v", m, ok, err)
		}
		if strings.Join(h.Stages, ",") != config.HookStage {
			t.Errorf("%s: stages %v", m, h.Stages)
		}
	}
}

func TestPrecreateDropIn(t *testing.T) {
	got := string(PrecreateDropIn("/usr/local/share/remainroot/hooks.d"))
	want := `hooks_dir = ["/usr/share/containers/oci/hooks.d", "/usr/local/share/remainroot/hooks.d"]`
	if !strings.Contains(got, "[engine]\n"+want+"\n") {
		t.Errorf("drop-in:\n%s\nwant the [engine] line %s", got, want)
	}
}
