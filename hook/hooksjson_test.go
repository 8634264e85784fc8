package hook

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	hooks "go.podman.io/common/pkg/hooks"
	current "go.podman.io/common/pkg/hooks/1.0.0"

	"github.com/remainroot/remainroot/config"
)

func TestHooksJSONDocument(t *testing.T) {
	got, err := HooksJSON("/usr/local/bin/remainroot")
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "version": "1.0.0",
  "hook": {
    "path": "/usr/local/bin/remainroot",
    "args": [
      "remainroot",
      "hook"
    ]
  },
  "when": {
    "annotations": {
      "^io\\.remainroot\\.mode$": "^(creds|full|true|1)$"
    }
  },
  "stages": [
    "createRuntime"
  ]
}
`
	if string(got) != want {
		t.Errorf("HooksJSON =\n%s\nwant\n%s", got, want)
	}
}

func TestHooksJSONPath(t *testing.T) {
	tests := []struct {
		path    string
		want    string // the path in the document; empty means an error
		wantErr bool
	}{
		{path: "/usr/bin/remainroot", want: "/usr/bin/remainroot"},
		{path: "/opt//rr/./bin/remainroot", want: "/opt/rr/bin/remainroot"},
		{path: "/opt/a&b<c>/remainroot", want: "/opt/a&b<c>/remainroot"},
		{path: "remainroot", wantErr: true},
		{path: "./bin/remainroot", wantErr: true},
		{path: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			doc, err := HooksJSON(tt.path)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("HooksJSON(%q) succeeded, want an error", tt.path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			h, err := current.Read(doc)
			if err != nil {
				t.Fatal(err)
			}
			if h.Hook.Path != tt.want {
				t.Errorf("path %q, want %q", h.Hook.Path, tt.want)
			}
		})
	}
}

// TestHooksJSONValidates installs the document in a hooks directory with a
// real executable as its path and reads it back the way podman does.
func TestHooksJSONValidates(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	doc, err := HooksJSON(exe)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, config.HooksFileName)
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}

	h, err := hooks.Read(file, nil)
	if err != nil {
		t.Fatalf("hooks.Read: %v", err)
	}
	if err := h.Validate(nil); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if h.Hook.Path != exe || !slices.Equal(h.Hook.Args, []string{"remainroot", "hook"}) {
		t.Errorf("hook = %+v", h.Hook)
	}
	if !slices.Equal(h.Stages, []string{"createRuntime"}) {
		t.Errorf("stages = %q", h.Stages)
	}

	all := map[string]*current.Hook{}
	if err := hooks.ReadDir(dir, nil, all); err != nil {
		t.Fatalf("hooks.ReadDir: %v", err)
	}
	if all[config.HooksFileName] == nil {
		t.Fatalf("hooks.ReadDir found %v, not %s", all, config.HooksFileName)
	}

	// Validation is real: the same document naming a missing binary fails.
	missing, err := HooksJSON(filepath.Join(dir, "no-such-binary"))
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "missing.json")
	if err := os.WriteFile(bad, missing, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := hooks.Read(bad, nil); err == nil {
		t.Error("hooks.Read accepted a hook whose path does not exist")
	}
}

// TestHooksJSONMatch checks which annotations trigger the hook, with the
// matcher podman itself uses.
func TestHooksJSONMatch(t *testing.T) {
	doc, err := HooksJSON("/usr/bin/remainroot")
	if err != nil {
		t.Fatal(err)
	}
	h, err := current.Read(doc)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ann  map[string]string
		want bool
	}{
		{"creds", map[string]string{"io.remainroot.mode": "creds"}, true},
		{"full", map[string]string{"io.remainroot.mode": "full"}, true},
		{"true", map[string]string{"io.remainroot.mode": "true"}, true},
		{"1", map[string]string{"io.remainroot.mode": "1"}, true},
		{"with others", map[string]string{"io.remainroot.mode": "creds", "io.remainroot.log-level": "debug", "io.container.manager": "libpod"}, true},
		{"yes", map[string]string{"io.remainroot.mode": "yes"}, false},
		{"credsx", map[string]string{"io.remainroot.mode": "credsx"}, false},
		{"xcreds", map[string]string{"io.remainroot.mode": "xcreds"}, false},
		{"Creds", map[string]string{"io.remainroot.mode": "Creds"}, false},
		{"empty value", map[string]string{"io.remainroot.mode": ""}, false},
		{"10", map[string]string{"io.remainroot.mode": "10"}, false},
		{"key suffix", map[string]string{"io.remainroot.modeX": "creds"}, false},
		{"key prefix", map[string]string{"xio.remainroot.mode": "creds"}, false},
		{"key dot is literal", map[string]string{"io-remainroot.mode": "creds"}, false},
		{"other key only", map[string]string{"io.remainroot.log-level": "creds"}, false},
		{"no annotations", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.When.Match(&rspec.Spec{Process: &rspec.Process{Args: []string{"sh"}}}, tt.ann, false)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Match(%v) = %v, want %v", tt.ann, got, tt.want)
			}
		})
	}
}

// TestModeRegexesAgreeWithParseMode checks the value regex accepts exactly
// what the hook itself will parse.
func TestModeRegexesAgreeWithParseMode(t *testing.T) {
	re := regexp.MustCompile(ModeValueRegex)
	for _, v := range []string{"creds", "full", "true", "1", "yes", "0", "", "creds\n", "ful", "fullfull"} {
		_, err := config.ParseMode(v)
		if re.MatchString(v) != (err == nil) {
			t.Errorf("value %q: regex match %v, ParseMode error %v", v, re.MatchString(v), err)
		}
	}
	if !strings.HasPrefix(ModeKeyRegex, "^") || !strings.HasSuffix(ModeKeyRegex, "$") {
		t.Errorf("key regex %q is not anchored", ModeKeyRegex)
	}
}
