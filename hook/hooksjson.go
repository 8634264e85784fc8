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

// HooksFileName is the name the hooks.d document is installed under.
const HooksFileName = "remainroot.json"

// Stage is the only OCI hook stage remainroot runs at: after the runtime
// has created the container's namespaces and init, before pivot_root and
// before the user's process is exec'd. (prestart is deprecated and newer
// podman maps it onto createRuntime: listing both would run the hook twice.)
const Stage = "createRuntime"

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
	Annotations map[string]string `json:"annotations"`
}

// HooksJSON returns the hooks.d (schema 1.0.0) document that makes podman
// and CRI-O run binaryPath as "remainroot hook" at createRuntime for every
// container whose io.remainroot.mode annotation holds an accepted mode. The
// document is indented and ends with a newline. binaryPath must be absolute
// (OCI requires it); it need not exist yet, but podman rejects the document,
// and skips the hook, while it does not.
func HooksJSON(binaryPath string) ([]byte, error) {
	if !filepath.IsAbs(binaryPath) {
		return nil, fmt.Errorf("hook binary path %q is not absolute", binaryPath)
	}
	doc := hooksDoc{
		Version: "1.0.0",
		Hook: hooksHook{
			Path: filepath.Clean(binaryPath),
			Args: []string{"remainroot", "hook"},
		},
		When: hooksWhen{
			Annotations: map[string]string{ModeKeyRegex: ModeValueRegex},
		},
		Stages: []string{Stage},
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
