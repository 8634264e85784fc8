package e2e

// remainroot build and fix-image (issue 18, point 2): a mode full build's
// owners end up in the image's layer tars, as real root's build puts them.

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// fixImageContainerfile sets owners the single mapping lacks, and modifies
// base files owned by others (/etc/shadow, /etc/gshadow: 0:42). Offline.
const fixImageContainerfile = `FROM ` + debianImage + `
RUN useradd -m app
RUN mkdir /data && chown app:app /data && install -o app -g app -m 600 /dev/null /data/f
RUN chown 1234:5678 /opt && chage -d 1 root && groupadd -r staffers
`

// fixImageExpected are the differences between remainroot build's image
// and real root's that are expected: the backups shadow-utils writes
// (/etc/shadow-, /etc/gshadow-) copy the owner a RUN step sees on the
// original, and a RUN step sees the base image's files as 0:0 (the
// rootless storage keeps no owner on disk for a base image's files, only
// in its tar-split), where real root sees 0:42.
var fixImageExpected = map[string]string{"etc/shadow-": "0:0", "etc/gshadow-": "0:0"}

func TestFixImage(t *testing.T) {
	bin, hooks, ctx := fullBuildContext(t, fixImageContainerfile)
	name := "localhost/rr-e2e-fiximage-" + randomID(4)
	fixedTag, plainTag, rootTag := name+":fixed", name+":plain", name+":root"
	t.Cleanup(func() { podman(t, 2*time.Minute, "rmi", "-f", fixedTag, plainTag) })
	buildArgs := []string{"--no-cache", "--runtime", "crun", "--network=none"}

	// remainroot build: podman build with the mode full build hooks, then
	// fix-image.
	unfixed := remainrootBuild(t, bin, hooks, buildArgs, fixedTag, ctx)
	// Today: podman build with the same hooks.
	fullHooksPodmanBuild(t, hooks, buildArgs, plainTag, ctx)
	// Real root, all ids, in a storage of the test's own.
	root := newRootPodmanStore(t)
	if r := root.podman(t, 5*time.Minute, "import", "-q", "--change", `CMD ["/bin/bash"]`, filepath.Join(cacheDir, "debian-bookworm.tar"), debianImage); r.code != 0 {
		t.Fatalf("root podman import:\n%s", r)
	}
	if r := root.podman(t, 10*time.Minute, append(append([]string{"build", "--no-cache", "--runtime", "runc", "--network=none"}, rootPodmanLimits...), "-t", rootTag, ctx)...); r.code != 0 {
		t.Fatalf("root podman build:\n%s", r)
	}

	fixed := saveLayout(t, podman, fixedTag)
	before := saveLayout(t, podman, unfixed)
	plain := saveLayout(t, podman, plainTag)
	want := saveLayout(t, root.podman, rootTag)
	if len(fixed.layers) != 4 || len(want.layers) != 4 || len(before.layers) != 4 {
		t.Fatalf("layers: fixed %d, unfixed %d, root %d; want 4 each", len(fixed.layers), len(before.layers), len(want.layers))
	}
	if fixed.digests[0] != before.digests[0] {
		t.Errorf("the base layer changed: %s -> %s", before.digests[0], fixed.digests[0])
	}
	for i := 1; i < 4; i++ {
		if fixed.digests[i] == before.digests[i] {
			t.Errorf("build layer %d was not rewritten", i)
		}
	}
	for i, l := range fixed.layers {
		for p, e := range l {
			if e.record {
				t.Errorf("fixed image, layer %d: %s still carries user.rootlesscontainers", i, p)
			}
		}
	}
	// Owner and mode of every path of every layer, against real root's.
	for i := range want.layers {
		var expected []string
		for p, d := range layerDiff(fixed, want, i) {
			if w, ok := fixImageExpected[p]; ok && i > 0 && fixed.layers[i][p].owner == w && want.layers[i][p].owner == "0:42" {
				expected = append(expected, d)
				continue
			}
			t.Errorf("layer %d: %s", i, d)
		}
		sort.Strings(expected)
		for _, d := range expected {
			t.Logf("layer %d: expected difference: %s", i, d)
		}
	}
	// Today's build differs from root's where the build set owners.
	for p, layer := range map[string]int{"home/app": 1, "data": 2, "data/f": 2, "opt": 3} {
		if e := plain.layers[layer][p]; e.owner != "0:0" || !e.record {
			t.Errorf("podman build --hooks-dir (mode full): layer %d %s is %v; want 0:0 with a record", layer, p, e)
		}
		if e := fixed.layers[layer][p]; e == plain.layers[layer][p] {
			t.Errorf("layer %d %s: fixed %v, the same as podman build's", layer, p, e)
		}
	}
	t.Logf("data/f: podman build %v, remainroot build %v, root %v", plain.layers[2]["data/f"], fixed.layers[2]["data/f"], want.layers[2]["data/f"])

	// On a normal host (root podman, all ids): app writes its directory
	// in the fixed image, not in today's.
	for _, c := range []struct {
		image string
		works bool
	}{{fixedTag, true}, {plainTag, false}} {
		root.loadFromUser(t, c.image)
		r := root.runImage(t, c.image, "su", "app", "-c", "touch /data/x && stat -c '%U:%G %a' /data /data/f /data/x")
		switch {
		case c.works && (r.code != 0 || r.stdout != "app:app 755\napp:app 600\napp:app 644\n"):
			t.Errorf("root podman run %s: su app -c 'touch /data/x': want it to work\n%s", c.image, r)
		case !c.works && (r.code == 0 || !strings.Contains(r.stderr, "Permission denied")):
			t.Errorf("root podman run %s (podman build today): want touch /data/x to fail with Permission denied\n%s", c.image, r)
		default:
			t.Logf("root podman run %s: su app -c 'touch /data/x': exit %d %s", c.image, r.code, strings.TrimSpace(r.output()))
		}
	}
}
