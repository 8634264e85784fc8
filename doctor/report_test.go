package doctor

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestWriteText(t *testing.T) {
	checks := []Check{
		Pass("kernel: seccomp", "kernel %s", "6.18"),
		Warning("podman: rootless network", "Use --network=host.", "/dev/net/tun: %v", "permission denied"),
		Failure("podman: storage", "Add ignore_chown_errors.", "not set"),
	}
	var b bytes.Buffer
	if err := WriteText(&b, checks); err != nil {
		t.Fatal(err)
	}
	want := `ok    kernel: seccomp: kernel 6.18
warn  podman: rootless network: /dev/net/tun: permission denied
      -> Use --network=host.
fail  podman: storage: not set
      -> Add ignore_chown_errors.
1 ok, 1 warn, 1 fail
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if !Failed(checks) || Failed(checks[:2]) {
		t.Error("Failed")
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	checks := []Check{Pass("a", "fine"), Failure("b", "Fix <it> & go.", "broken")}
	if err := WriteJSON(&b, "v1", 1001, checks); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"remedy": "Fix <it> & go."`) || strings.Contains(b.String(), `"remedy": ""`) {
		t.Errorf("remedy encoding:\n%s", b.String())
	}
	var r Report
	if err := json.Unmarshal(b.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Version != "v1" || r.UID != 1001 || len(r.Checks) != 2 || r.OK != 1 || r.Fail != 1 || r.Checks[1].Status != Fail {
		t.Errorf("%+v", r)
	}
	b.Reset()
	WriteJSON(&b, "v1", 0, nil)
	if !strings.Contains(b.String(), `"checks": []`) {
		t.Errorf("no checks: %s", b.String())
	}
}
