package runtimewrap

import (
	"encoding/json"
	"testing"
)

func TestBundleOf(t *testing.T) {
	for _, c := range []struct {
		args   []string
		bundle string
		ok     bool
	}{
		{[]string{"--root", "/run/crun", "create", "--bundle", "/b", "--pid-file", "/p", "id"}, "/b", true},
		{[]string{"--log-format=json", "run", "-b", "/b2", "id"}, "/b2", true},
		{[]string{"run", "--bundle=/b3", "id"}, "/b3", true},
		{[]string{"create", "id"}, ".", true},
		{[]string{"--root", "create", "start", "id"}, "", false}, // --root's value is "create"
		{[]string{"start", "id"}, "", false},
		{[]string{"--version"}, "", false},
		{[]string{"delete", "--force", "id"}, "", false},
	} {
		b, ok := bundleOf(c.args)
		if b != c.bundle || ok != c.ok {
			t.Errorf("%q: %q %v, want %q %v", c.args, b, ok, c.bundle, c.ok)
		}
	}
}

func TestWithAnnotation(t *testing.T) {
	out, err := WithAnnotation([]byte(`{"ociVersion":"1.0.2","annotations":{"a":"b"},"x":[1,2]}`), "io.remainroot.mode", "full")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Annotations map[string]string
		X           []int
	}
	if json.Unmarshal(out, &doc) != nil || doc.Annotations["io.remainroot.mode"] != "full" || doc.Annotations["a"] != "b" || len(doc.X) != 2 {
		t.Errorf("got %s", out)
	}
	kept := []byte(`{"annotations":{"io.remainroot.mode":"creds"}}`)
	if out, _ := WithAnnotation(kept, "io.remainroot.mode", "full"); string(out) != string(kept) {
		t.Errorf("an annotation already set changed: %s", out)
	}
	if _, err := WithAnnotation([]byte(`[1]`), "k", "v"); err == nil {
		t.Error("a config that is no object: want an error")
	}
}
