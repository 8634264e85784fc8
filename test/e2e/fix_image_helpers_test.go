package e2e

// Helpers of TestFixImage: a root podman with a storage of the test's own,
// and the owners of an OCI layout's layers.

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fullBuildContext checks the test's prerequisites and returns the binary,
// the mode full build hooks directory and a build context holding
// containerfile, readable by the test user.
func fullBuildContext(t *testing.T, containerfile string) (bin, hooks, ctx string) {
	t.Helper()
	bin = setup(t, "podman", "crun", "runc")
	hooks = buildHooksDir(t, bin, "full")
	ctx = userTempDir(t)
	writeUserFile(t, filepath.Join(ctx, "Containerfile"), containerfile)
	return bin, hooks, ctx
}

// unfixedID finds the unfixed image in fix-image's log.
var unfixedID = regexp.MustCompile(`unfixed=([0-9a-f]{64})`)

// remainrootBuild runs `remainroot build` of ctx as the test user with
// the mode full build hooks in hooks and podman build's args, tagging the
// fixed image tag (removed by the caller), and returns the unfixed
// image's ID, removed with its build's intermediate images when the test
// ends.
func remainrootBuild(t *testing.T, bin, hooks string, args []string, tag, ctx string) (unfixed string) {
	t.Helper()
	r := run(t, asUser(t, bin, append(append([]string{"build", "--build-hooks-dir", hooks}, args...), "-t", tag, ctx)...), 15*time.Minute)
	if m := unfixedID.FindStringSubmatch(r.stderr); m != nil {
		unfixed = m[1]
		t.Cleanup(func() { podman(t, 2*time.Minute, "rmi", "-f", unfixed) })
	}
	if r.code != 0 || unfixed == "" {
		t.Fatalf("remainroot build:\n%s", r)
	}
	t.Logf("remainroot build: %s", r.duration.Round(time.Second))
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, "fix-image") {
			t.Log(l) // save=, fix=, load= timings
		}
	}
	// The test user's storage is one fix-image reads itself: no fallback
	// to podman save.
	if !strings.Contains(r.stderr, "from=storage") || strings.Contains(r.stderr, "saving the whole image") {
		t.Errorf("remainroot build: fix-image did not read the image from the storage:\n%s", r.stderr)
	}
	return unfixed
}

// fullHooksPodmanBuild is today's build in mode full: podman build of ctx
// as the test user with the build hooks directory hooks and args, tagged
// tag (removed by the caller).
func fullHooksPodmanBuild(t *testing.T, hooks string, args []string, tag, ctx string) {
	t.Helper()
	r := podman(t, 15*time.Minute, append(append([]string{"build", "--hooks-dir", hooks}, args...), "-t", tag, ctx)...)
	if r.code != 0 {
		t.Fatalf("podman build --hooks-dir (mode full):\n%s", r)
	}
	t.Logf("podman build --hooks-dir (mode full): %s", r.duration.Round(time.Second))
}

// rootPodmanStore is root podman with its storage under a temporary
// directory (vfs, cgroupfs, file events): nothing of root's podman state
// on the host is touched, and its removal is the cleanup.
type rootPodmanStore struct{ args []string }

func newRootPodmanStore(t *testing.T) rootPodmanStore {
	t.Helper()
	dir, err := os.MkdirTemp("", "rr-fiximage-root-")
	if err != nil {
		t.Fatal(err)
	}
	s := rootPodmanStore{args: []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
		"--tmpdir", filepath.Join(dir, "libpod"), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
		"--events-backend", "file"}}
	t.Cleanup(func() {
		s.podman(t, time.Minute, "rm", "-a", "-f", "-t", "0")
		s.podman(t, 2*time.Minute, "rmi", "-a", "-f")
		// vfs layers of root's own storage: plain directories.
		os.RemoveAll(dir)
	})
	return s
}

func (s rootPodmanStore) podman(t testing.TB, timeout time.Duration, args ...string) result {
	t.Helper()
	cmd := exec.Command("podman", append(append([]string{}, s.args...), args...)...)
	cmd.Dir = "/"
	return run(t, cmd, timeout)
}

// rootPodmanLimits are the ulimits root podman's builds and containers
// get, the same in every test.
var rootPodmanLimits = []string{"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}

// loadFromUser moves image from the test user's storage into s:
// podman save as the test user, podman load as root.
func (s rootPodmanStore) loadFromUser(t *testing.T, image string) {
	t.Helper()
	archive := filepath.Join(userTempDir(t), "image.tar")
	if r := podman(t, 5*time.Minute, "save", "-o", archive, image); r.code != 0 {
		t.Fatalf("podman save %s:\n%s", image, r)
	}
	if r := s.podman(t, 5*time.Minute, "load", "-q", "-i", archive); r.code != 0 {
		t.Fatalf("root podman load %s:\n%s", image, r)
	}
}

// runImage runs cmd in a new container of image under root podman (runc,
// no network) and removes the container.
func (s rootPodmanStore) runImage(t *testing.T, image string, cmd ...string) result {
	t.Helper()
	args := append(append([]string{"run", "--rm", "--runtime", "runc", "--network=none"}, rootPodmanLimits...), image)
	return s.podman(t, 3*time.Minute, append(args, cmd...)...)
}

// layerEntry is what a layer says of one path.
type layerEntry struct {
	owner  string // uid:gid
	mode   string // octal, with the type's bits
	record bool   // carries SCHILY.xattr.user.rootlesscontainers
	dev    string // a device entry's major,minor
	node   bool   // carries SCHILY.xattr.user.remainroot.node
}

func (e layerEntry) String() string {
	s := e.owner + " " + e.mode
	if e.dev != "" {
		s += " " + e.dev
	}
	if e.record {
		s += " +record"
	}
	if e.node {
		s += " +node"
	}
	return s
}

// savedImage is an image saved as an OCI layout: its layers' digests and
// entries.
type savedImage struct {
	digests []string
	layers  []map[string]layerEntry
}

// saveLayout saves image with the given podman (rootless: the test user's)
// into a new directory and reads it.
func saveLayout(t *testing.T, podmanFn func(testing.TB, time.Duration, ...string) result, image string) savedImage {
	t.Helper()
	dir := filepath.Join(userTempDir(t), "oci")
	start := time.Now()
	if r := podmanFn(t, 5*time.Minute, "save", "--format", "oci-dir", "-o", dir, image); r.code != 0 {
		t.Fatalf("podman save %s:\n%s", image, r)
	}
	t.Logf("podman save --format oci-dir %s: %s", image, time.Since(start).Round(time.Millisecond))
	return readLayout(t, dir)
}

func readLayout(t *testing.T, dir string) savedImage {
	t.Helper()
	type descriptor struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
	}
	blob := func(d string) string {
		_, hex, _ := strings.Cut(d, ":")
		return filepath.Join(dir, "blobs", "sha256", hex)
	}
	var index struct{ Manifests []descriptor }
	var manifest struct{ Layers []descriptor }
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil || json.Unmarshal(data, &index) != nil || len(index.Manifests) != 1 {
		t.Fatalf("%s/index.json: %v\n%s", dir, err, data)
	}
	if data, err = os.ReadFile(blob(index.Manifests[0].Digest)); err != nil || json.Unmarshal(data, &manifest) != nil {
		t.Fatalf("manifest: %v\n%s", err, data)
	}
	var img savedImage
	for _, l := range manifest.Layers {
		img.digests = append(img.digests, l.Digest)
		img.layers = append(img.layers, readLayerEntries(t, blob(l.Digest), strings.HasSuffix(l.MediaType, "gzip")))
	}
	return img
}

func readLayerEntries(t *testing.T, path string, gz bool) map[string]layerEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if gz {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	out := map[string]layerEntry{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		_, rec := hdr.PAXRecords["SCHILY.xattr.user.rootlesscontainers"]
		_, node := hdr.PAXRecords["SCHILY.xattr.user.remainroot.node"]
		e := layerEntry{owner: fmt.Sprintf("%d:%d", hdr.Uid, hdr.Gid), mode: fmt.Sprintf("%o", hdr.FileInfo().Mode()),
			record: rec, node: node}
		switch hdr.Typeflag {
		case tar.TypeChar:
			e.dev = fmt.Sprintf("c%d,%d", hdr.Devmajor, hdr.Devminor)
		case tar.TypeBlock:
			e.dev = fmt.Sprintf("b%d,%d", hdr.Devmajor, hdr.Devminor)
		}
		out[strings.TrimSuffix(strings.TrimPrefix(hdr.Name, "./"), "/")] = e
	}
}

// layerDiff lists the paths whose entries differ between two images'
// layer i, as "path: got ... want ...".
func layerDiff(got, want savedImage, i int) map[string]string {
	diff := map[string]string{}
	for p, g := range got.layers[i] {
		if w, ok := want.layers[i][p]; !ok || g != w {
			diff[p] = fmt.Sprintf("%s: got %v, want %v", p, g, w)
		}
	}
	for p, w := range want.layers[i] {
		if _, ok := got.layers[i][p]; !ok {
			diff[p] = fmt.Sprintf("%s: missing, want %v", p, w)
		}
	}
	return diff
}
