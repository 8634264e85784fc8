package e2e

// Helpers for full_test.go (mode full: ownership recorded in the
// user.rootlesscontainers xattr). Prefixed with "full".

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fullXattr is where mode full (and umoci --rootless) records owners.
const fullXattr = "user.rootlesscontainers"

// fullOwnLib defines `own PATH...`, which prints "own PATH UID:GID" for
// each path as `ls -lnd` shows it (the stat family as the container sees
// it; a symlink itself, not its target). It works in dash and busybox sh.
const fullOwnLib = `
own() { for p; do ls -lnd "$p" | { read -r m n u g rest; echo "own $p $u:$g"; }; done; }
`

// fullAnnotations returns the podman options that select mode (full or
// creds), plus the debug log level when REMAINROOT_E2E_DEBUG=1.
func fullAnnotations(mode string) []string {
	a := []string{"--annotation", "io.remainroot.mode=" + mode}
	if os.Getenv("REMAINROOT_E2E_DEBUG") == "1" {
		a = append(a, "--annotation", debugAnn)
	}
	return a
}

// fullRun runs `sh -c script` in a rootless podman container with the hook
// in the given mode ("full" or "creds"). extra holds more podman run
// options; c supplies the rest (runtime, image, keep, timeout).
func fullRun(t *testing.T, bin, mode string, c container, script string, extra ...string) (result, string) {
	t.Helper()
	c.hook = false // the annotation comes from fullAnnotations
	c.extra = append(append(fullAnnotations(mode), extra...), c.extra...)
	c.cmd = []string{"sh", "-c", fullOwnLib + script, "e2e-full"}
	if c.timeout == 0 {
		c.timeout = 2 * time.Minute
	}
	return podmanRun(t, bin, c)
}

// fullOwners collects the "own PATH UID:GID" lines of out; a path printed
// twice keeps the later owner.
func fullOwners(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "own" {
			m[f[1]] = f[2]
		}
	}
	return m
}

// fullCheckOwners compares the owners printed in out (fullOwners) with
// want and returns one line per difference.
func fullCheckOwners(out string, want map[string]string) []string {
	got := fullOwners(out)
	var diffs []string
	for p, w := range want {
		if g, ok := got[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: no owner printed (want %s)", p, w))
		} else if g != w {
			diffs = append(diffs, fmt.Sprintf("%s: owner %s, want %s", p, g, w))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// fullTarEntries parses `tar --numeric-owner -tv` output into name ->
// "MODE UID/GID" (a link's name without its " -> target" or " link to").
func fullTarEntries(listing string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(listing, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || len(f[0]) != 10 || !strings.Contains(f[1], "/") {
			continue
		}
		m[f[5]] = f[0] + " " + f[1]
	}
	return m
}

// fullCheckTar compares tar entries with want (name -> "MODE UID/GID", or
// just "UID/GID" to ignore the mode) and returns the differences.
func fullCheckTar(entries map[string]string, want map[string]string) []string {
	var diffs []string
	for name, w := range want {
		g, ok := entries[name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: not in the archive (want %s)", name, w))
		case strings.Contains(w, " ") && g != w:
			diffs = append(diffs, fmt.Sprintf("%s: %s, want %s", name, g, w))
		case !strings.Contains(w, " ") && !strings.HasSuffix(g, " "+w):
			diffs = append(diffs, fmt.Sprintf("%s: %s, want owner %s", name, g, w))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// fullAsUser runs name with args as the test user in dir (with the clean
// environment of asUser).
func fullAsUser(t *testing.T, dir string, timeout time.Duration, name string, args ...string) result {
	t.Helper()
	cmd := asUser(t, name, args...)
	cmd.Dir = dir
	return run(t, cmd, timeout)
}

// fullMust runs cmd (as root) and fails the test on a non-zero exit.
func fullMust(t *testing.T, dir string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if r := run(t, cmd, 2*time.Minute); r.code != 0 {
		t.Fatalf("%s", r)
	}
}

// fullLayer returns the path of the last layer blob of tag in the OCI
// image layout dir, found through index.json and the tag's manifest.
func fullLayer(t *testing.T, layout, tag string) string {
	t.Helper()
	type descriptor struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Annotations map[string]string `json:"annotations"`
	}
	blob := func(digest string) string {
		algo, hex, ok := strings.Cut(digest, ":")
		if !ok {
			t.Fatalf("bad digest %q", digest)
		}
		return filepath.Join(layout, "blobs", algo, hex)
	}
	var index struct {
		Manifests []descriptor `json:"manifests"`
	}
	data, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatalf("index.json: %v\n%s", err, data)
	}
	for _, m := range index.Manifests {
		if m.Annotations["org.opencontainers.image.ref.name"] != tag {
			continue
		}
		data, err := os.ReadFile(blob(m.Digest))
		if err != nil {
			t.Fatal(err)
		}
		var manifest struct {
			Layers []descriptor `json:"layers"`
		}
		if err := json.Unmarshal(data, &manifest); err != nil {
			t.Fatalf("manifest %s: %v\n%s", m.Digest, err, data)
		}
		if len(manifest.Layers) == 0 {
			t.Fatalf("manifest %s of tag %s has no layers", m.Digest, tag)
		}
		last := manifest.Layers[len(manifest.Layers)-1]
		if !strings.Contains(last.MediaType, "gzip") {
			t.Fatalf("last layer of %s is %s, want a gzip tar", tag, last.MediaType)
		}
		return blob(last.Digest)
	}
	t.Fatalf("tag %s not in %s/index.json:\n%s", tag, layout, data)
	return ""
}

// fullDecodeOwner decodes a rootless-containers/proto Resource (field 1
// uid, field 2 gid, varints; missing means 0) into "UID:GID".
func fullDecodeOwner(b []byte) (string, error) {
	var ids [3]uint64
	for len(b) > 0 {
		var vals [2]uint64
		for i := range vals {
			var v uint64
			shift := uint(0)
			for {
				if len(b) == 0 || shift > 63 {
					return "", fmt.Errorf("bad varint in % x", b)
				}
				c := b[0]
				b = b[1:]
				v |= uint64(c&0x7f) << shift
				shift += 7
				if c < 0x80 {
					break
				}
			}
			vals[i] = v
		}
		field, wire := vals[0]>>3, vals[0]&7
		if wire != 0 {
			return "", fmt.Errorf("field %d: wire type %d, want varint", field, wire)
		}
		if field == 1 || field == 2 {
			ids[field] = vals[1]
		}
	}
	return fmt.Sprintf("%d:%d", uint32(ids[1]), uint32(ids[2])), nil
}

// fullRecorded returns the owner recorded in path's xattr (not following a
// last symlink) as "UID:GID", "none" when it has none.
func fullRecorded(t *testing.T, path string) string {
	t.Helper()
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(path, fullXattr, buf)
	if err == unix.ENODATA {
		return "none"
	}
	if err != nil {
		t.Fatalf("lgetxattr %s %s: %v", path, fullXattr, err)
	}
	o, err := fullDecodeOwner(buf[:n])
	if err != nil {
		t.Fatalf("%s on %s: %v", fullXattr, path, err)
	}
	return o
}
