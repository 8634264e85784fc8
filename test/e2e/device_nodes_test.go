package e2e

// Device nodes in a mode full build: a RUN step's mknod makes a node the
// step sees as one, and the fixed image carries it as a device entry.

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// deviceNodeContainerfile makes its nodes under /opt/dev: /dev in a build
// container is a tmpfs mount, not part of the layer.
const deviceNodeContainerfile = `FROM ` + debianImage + `
RUN mkdir -p /opt/dev && mknod -m 0620 /opt/dev/mydev c 4 5 && chown 0:5 /opt/dev/mydev && mknod -m 0600 /opt/dev/disk b 8 1 && mknod -m 0666 /opt/dev/zero c 1 5 && chown 7:7 /opt/dev/zero && chown 0:0 /opt/dev/zero && stat -c 'node=%n %F %t,%T %u:%g %a' /opt/dev/mydev /opt/dev/disk /opt/dev/zero
`

func TestBuildDeviceNodes(t *testing.T) {
	bin, hooks, ctx := fullBuildContext(t, deviceNodeContainerfile)
	tag := "localhost/rr-e2e-devnodes-" + randomID(4)
	var unfixed string
	t.Cleanup(func() {
		podman(t, 2*time.Minute, "rmi", "-f", tag)
		if unfixed != "" {
			podman(t, 2*time.Minute, "rmi", "-f", unfixed)
		}
	})
	// podman's default capabilities lack CAP_MKNOD (as root podman's
	// do): without it the emulated root gets the kernel's EPERM.
	r := run(t, asUser(t, bin, "build", "--build-hooks-dir", hooks, "--no-cache", "--runtime", "crun",
		"--network=none", "--cap-add", "MKNOD", "-t", tag, ctx), 10*time.Minute)
	if m := unfixedID.FindStringSubmatch(r.stderr); m != nil {
		unfixed = m[1]
	}
	// /opt/dev/zero: a chown to 0:0 keeps the node (image owners are
	// known in a build: an explicit 0:0 record).
	for _, w := range []string{"node=/opt/dev/mydev character special file 4,5 0:5 620", "node=/opt/dev/disk block special file 8,1 0:0 600",
		"node=/opt/dev/zero character special file 1,5 0:0 666"} {
		if r.code != 0 || !strings.Contains(r.stdout, w) {
			t.Fatalf("remainroot build: want %q\n%s", w, r)
		}
	}
	img := saveLayout(t, podman, tag)
	top := img.layers[len(img.layers)-1]
	for p, want := range map[string]layerEntry{
		"opt/dev/mydev": {owner: "0:5", mode: fmt.Sprintf("%o", os.ModeDevice|os.ModeCharDevice|0o620), dev: "c4,5"},
		"opt/dev/disk":  {owner: "0:0", mode: fmt.Sprintf("%o", os.ModeDevice|0o600), dev: "b8,1"},
		"opt/dev/zero":  {owner: "0:0", mode: fmt.Sprintf("%o", os.ModeDevice|os.ModeCharDevice|0o666), dev: "c1,5"},
	} {
		if e, ok := top[p]; !ok || e != want {
			t.Errorf("fixed image: %s is %v (present %v), want %v", p, e, ok, want)
		}
	}
}
