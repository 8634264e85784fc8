package hook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/remainroot/remainroot/config"
)

// ModeKeyRegex is the hooks.d annotation-key pattern: exactly the mode
// annotation. hooks.d patterns are unanchored, hence ^ and $.
var ModeKeyRegex = "^" + regexp.QuoteMeta(config.AnnotationMode) + "$"

// ModeValueRegex is the hooks.d annotation-value pattern: exactly one of
// the values config.ParseMode accepts.
var ModeValueRegex = func() string {
	names := config.ModeNames()
	for i, n := range names {
		names[i] = regexp.QuoteMeta(n)
	}
	return "^(" + strings.Join(names, "|") + ")$"
}()

// hooksDoc is the hooks.d schema 1.0.0 document, fields in the schema's order.
type hooksDoc struct {
	Version string    `json:"version"`
	Hook    hooksHook `json:"hook"`
	When    hooksWhen `json:"when"`
	Stages  []string  `json:"stages"`
}

type hooksHook struct {
	Path string   `json:"path"`
	Args []string `json:"args"`
}

type hooksWhen struct {
	Always      *bool             `json:"always,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// HooksJSON returns the hooks.d (schema 1.0.0) document that makes podman
// and CRI-O run binaryPath as "remainroot hook" at createRuntime for every
// container whose io.remainroot.mode annotation holds an accepted mode. The
// document is indented and ends with a newline. binaryPath must be absolute
// (OCI requires it); it need not exist yet, but podman rejects the document,
// and skips the hook, while it does not.
func HooksJSON(binaryPath string) ([]byte, error) {
	return hooksJSON(binaryPath, []string{"remainroot", "hook"}, config.HookStage,
		hooksWhen{Annotations: map[string]string{ModeKeyRegex: ModeValueRegex}})
}

// DefaultHooksDir is podman's default hooks_dir.
const DefaultHooksDir = "/usr/share/containers/oci/hooks.d"

// PrecreateHooksJSON returns the precreate hook's document: podman runs
// binaryPath as "remainroot hook precreate" with the proposed config of
// every container annotated with io.remainroot.mode.
func PrecreateHooksJSON(binaryPath string) ([]byte, error) {
	return hooksJSON(binaryPath, []string{"remainroot", "hook", PrecreateArg}, "precreate",
		hooksWhen{Annotations: map[string]string{ModeKeyRegex: ModeValueRegex}})
}

// BuildHooksJSON returns the build hooks directory's document: buildah
// runs binaryPath as "remainroot hook --mode MODE" at createRuntime for
// every RUN container (they carry no annotations to match).
func BuildHooksJSON(binaryPath string, mode config.Mode) ([]byte, error) {
	always := true
	return hooksJSON(binaryPath, []string{"remainroot", "hook", "--mode", mode.String()}, config.HookStage,
		hooksWhen{Always: &always})
}

// PrecreateDropIn returns the containers.conf drop-in
// (/etc/containers/containers.conf.d/) that adds precreateDir to podman's
// hooks_dir, after podman's default directory.
func PrecreateDropIn(precreateDir string) []byte {
	return []byte(fmt.Sprintf(`# remainroot: podman runs the precreate hook of %s for containers
# annotated with io.remainroot.mode (podman exec, --user). Builds do not
# read hooks_dir; see remainroot(1). If you set hooks_dir elsewhere, list
# this directory there too.
[engine]
hooks_dir = [%q, %q]
`, precreateDir, DefaultHooksDir, precreateDir))
}

func hooksJSON(binaryPath string, args []string, stage string, when hooksWhen) ([]byte, error) {
	if !filepath.IsAbs(binaryPath) {
		return nil, fmt.Errorf("hook binary path %q is not absolute", binaryPath)
	}
	doc := hooksDoc{
		Version: "1.0.0",
		Hook:    hooksHook{Path: filepath.Clean(binaryPath), Args: args},
		When:    when,
		Stages:  []string{stage},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode hooks.d document: %w", err)
	}
	return buf.Bytes(), nil
}
