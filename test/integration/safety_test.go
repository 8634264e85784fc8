package integration

// Mode full never reads or changes anything outside the traced process's
// root, even when the tracer runs as real root: `remainroot run --mode full
// -- chroot ROOTFS sh -c ...` as host root, with absolute symlinks, `..`
// chains and a directory swapped for a symlink under a running chown -R,
// all aimed at a victim outside ROOTFS. The victim's owner, mode, ctime and
// xattrs must not change, and no host file outside ROOTFS may get a
// user.rootlesscontainers xattr; inside, every path resolves as the kernel
// resolves it in the chroot (the decoy at the same path inside ROOTFS is
// what gets chowned).
//
// The ownership semantics themselves are checked as the unprivileged test
// user in a single-id namespace, on a tree of its own: chown -R, -1 merges,
// chown 0:0 removes the xattr, lchown, fchown, AT_EMPTY_PATH, the xattr
// hidden inside, files created by an emulated nobody owned by nobody.
//
// Helpers here are prefixed with "safety".

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/test/testenv"
)

// safetyXattr is the xattr mode full records owners in.
const safetyXattr = "user.rootlesscontainers"

// safetyOwner decodes a rootless-containers/proto Resource: field 1 uid,
// field 2 gid, both varints; a missing field is 0.
func safetyOwner(b []byte) (uid, gid uint32, err error) {
	varint := func() (uint64, error) {
		var v uint64
		for shift := uint(0); shift < 64; shift += 7 {
			if len(b) == 0 {
				return 0, errors.New("truncated varint")
			}
			c := b[0]
			b = b[1:]
			v |= uint64(c&0x7f) << shift
			if c < 0x80 {
				return v, nil
			}
		}
		return 0, errors.New("varint too long")
	}
	for len(b) > 0 {
		key, err := varint()
		if err != nil {
			return 0, 0, err
		}
		if key&7 != 0 {
			return 0, 0, fmt.Errorf("field %d has wire type %d, want varint", key>>3, key&7)
		}
		v, err := varint()
		if err != nil {
			return 0, 0, err
		}
		switch key >> 3 {
		case 1:
			uid = uint32(v)
		case 2:
			gid = uint32(v)
		}
	}
	return uid, gid, nil
}

// safetyRecorded returns the owner recorded on path (not following a last
// symlink) as "uid:gid", or "none" when there is no xattr (ENODATA).
func safetyRecorded(t *testing.T, path string) string {
	t.Helper()
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(path, safetyXattr, buf)
	if errors.Is(err, unix.ENODATA) {
		return "none"
	}
	if err != nil {
		t.Fatalf("lgetxattr %s %s: %v", path, safetyXattr, err)
	}
	uid, gid, err := safetyOwner(buf[:n])
	if err != nil {
		t.Fatalf("%s on %s: %v (% x)", safetyXattr, path, err, buf[:n])
	}
	return fmt.Sprintf("%d:%d", uid, gid)
}

// safetyMeta is what must not change on a host file.
type safetyMeta struct {
	Ino      uint64
	UID, GID uint32
	Mode     uint32
	Size     int64
	Mtime    unix.Timespec
	Ctime    unix.Timespec
	Xattrs   map[string]string
}

// safetyLstat reads path's metadata and all its xattrs, without following
// a last symlink.
func safetyLstat(path string) (safetyMeta, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return safetyMeta{}, err
	}
	m := safetyMeta{Ino: st.Ino, UID: st.Uid, GID: st.Gid, Mode: st.Mode, Size: st.Size,
		Mtime: st.Mtim, Ctime: st.Ctim, Xattrs: map[string]string{}}
	buf := make([]byte, 64<<10)
	n, err := unix.Llistxattr(path, buf)
	if err != nil && !errors.Is(err, unix.ENOTSUP) {
		return m, fmt.Errorf("llistxattr %s: %w", path, err)
	}
	for _, name := range strings.Split(string(buf[:max(n, 0)]), "\x00") {
		if name == "" {
			continue
		}
		val := make([]byte, 64<<10)
		vn, err := unix.Lgetxattr(path, name, val)
		if err != nil {
			return m, fmt.Errorf("lgetxattr %s %s: %w", path, name, err)
		}
		m.Xattrs[name] = fmt.Sprintf("% x", val[:vn])
	}
	return m, nil
}

// safetySnapshot records the metadata of every file under each root
// (walked without following symlinks), skipping the subtree skip, and the
// xattrs only of each path in single (shared directories such as /tmp,
// whose times other processes change).
func safetySnapshot(t *testing.T, roots []string, skip string, single ...string) map[string]safetyMeta {
	t.Helper()
	snap := map[string]safetyMeta{}
	add := func(p string) {
		m, err := safetyLstat(p)
		if err != nil {
			t.Fatal(err)
		}
		snap[p] = m
	}
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p == skip {
				return filepath.SkipDir
			}
			add(p)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range single {
		m, err := safetyLstat(p)
		if err != nil {
			t.Fatal(err)
		}
		snap[p] = safetyMeta{Xattrs: m.Xattrs}
	}
	return snap
}

// safetyCompare fails the test when the host files changed: a file added,
// removed or with different metadata, or any file carrying the owner
// xattr that it did not carry before.
func safetyCompare(t *testing.T, what string, before, after map[string]safetyMeta) {
	t.Helper()
	var diffs []string
	for p, b := range before {
		a, ok := after[p]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: disappeared", p))
		case fmt.Sprint(a) != fmt.Sprint(b):
			diffs = append(diffs, fmt.Sprintf("%s:\n  before %+v\n  after  %+v", p, b, a))
		}
	}
	for p, a := range after {
		if _, ok := before[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: appeared %+v", p, a))
		}
		if _, ok := a.Xattrs[safetyXattr]; ok && !strings.Contains(fmt.Sprint(before[p].Xattrs), safetyXattr) {
			diffs = append(diffs, fmt.Sprintf("%s: got %s on the host, outside the container's root", p, safetyXattr))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s: host files outside the root changed:\n%s", what, strings.Join(diffs, "\n"))
	}
}

// safetyEnv is a chroot of the static busybox root in a temporary
// directory, next to a victim tree outside it.
type safetyEnv struct {
	base      string // the temporary directory holding both
	rootfs    string // base/rootfs
	victimDir string // base/victim-dir: a directory outside rootfs
	victim    string // base/victim-dir/victim: a file, owner root, mode 0644
	hostSnap  func() map[string]safetyMeta
}

func safetyNewEnv(t *testing.T) *safetyEnv {
	t.Helper()
	src := "/var/cache/remainroot-test/busybox"
	_, err := os.Stat(filepath.Join(src, "bin", "busybox"))
	testenv.Need(t, err == nil, "%s is missing (run test/setup-env.sh as root)", src)
	base, err := os.MkdirTemp("", "remainroot-safety-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	e := &safetyEnv{base: base, rootfs: filepath.Join(base, "rootfs"), victimDir: filepath.Join(base, "victim-dir")}
	e.victim = filepath.Join(e.victimDir, "victim")
	if out, err := exec.Command("cp", "-a", src, e.rootfs).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v\n%s", src, e.rootfs, err, out)
	}
	null := filepath.Join(e.rootfs, "dev", "null")
	os.Remove(null)
	if err := unix.Mknod(null, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatalf("mknod %s: %v", null, err)
	}
	if err := os.Chmod(null, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(e.victimDir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for p, content := range map[string]string{
		e.victim:                               "host victim, do not touch\n",
		filepath.Join(e.victimDir, "sub", "f"): "host victim too\n",
	} {
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{e.victimDir, filepath.Join(e.victimDir, "sub")} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{base, e.victimDir, e.victim} {
		if err := os.Lchown(p, 0, 0); err != nil {
			t.Fatal(err)
		}
		if m, err := safetyLstat(p); err != nil || len(m.Xattrs) != 0 {
			t.Fatalf("%s: want no xattrs to start with: %+v %v", p, m, err)
		}
	}
	// The whole temporary directory except rootfs, and the host's /, /tmp
	// and the directory above base (each on its own).
	e.hostSnap = func() map[string]safetyMeta {
		return safetySnapshot(t, []string{base}, e.rootfs, "/", "/tmp", filepath.Dir(base))
	}
	return e
}

// inside returns the path under rootfs that path names inside the chroot.
func (e *safetyEnv) inside(path string) string { return filepath.Join(e.rootfs, path) }

// run runs script with /bin/sh in the chroot under `remainroot run --mode
// full` as host root, with $1 the victim's host path and $2 its
// directory's, and returns everything it printed; a non-zero exit fails
// the test.
func (e *safetyEnv) run(t *testing.T, rr, script string, timeout time.Duration) string {
	t.Helper()
	cmd := exec.Command(rr, "run", "--mode", "full", "--", "chroot", e.rootfs,
		"/bin/sh", "-c", script, "safety", e.victim, e.victimDir)
	cmd.Dir = "/"
	cmd.Env = append([]string(nil), testenv.Env...)
	start := time.Now()
	out, errOut, code := testenv.Run(t, cmd, timeout)
	all := out + errOut
	t.Logf("chroot script took %s", time.Since(start).Round(time.Millisecond))
	if code != 0 {
		t.Fatalf("%s exited %d\noutput:\n%s", strings.Join(cmd.Args[:6], " "), code, all)
	}
	return all
}

// safetyLines returns the values of the lines "key value..." in out.
func safetyLines(out, key string) []string {
	var vals []string
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			vals = append(vals, strings.TrimSpace(v))
		}
	}
	return vals
}

// safetyExpect checks that out holds the line "key want" exactly once.
func safetyExpect(t *testing.T, out, key, want string) {
	t.Helper()
	got := safetyLines(out, key)
	if len(got) != 1 || got[0] != want {
		t.Errorf("%s: want %q, got %q", key, want, got)
	}
}

// safetyNoHostInode fails when a stat inside printed ino=N of a host file.
func safetyNoHostInode(t *testing.T, out string, host map[string]safetyMeta) {
	t.Helper()
	inos := map[string]string{}
	for p, m := range host {
		inos[strconv.FormatUint(m.Ino, 10)] = p
	}
	for _, m := range regexp.MustCompile(`ino=(\d+)`).FindAllStringSubmatch(out, -1) {
		if p, ok := inos[m[1]]; ok {
			t.Errorf("a stat inside the chroot reported inode %s, which is the host's %s", m[1], p)
		}
	}
}

func safetySetup(t *testing.T) string {
	t.Helper()
	testenv.RequireRoot(t)
	for _, tool := range []string{"chroot", "cp", "setpriv", "unshare"} {
		_, err := exec.LookPath(tool)
		testenv.Need(t, err == nil, "%s not found in PATH", tool)
	}
	return testenv.Binary(t)
}

// TestSafetyChrootAsRoot runs the attacks in a chroot with the tracer as
// host root.
func TestSafetyChrootAsRoot(t *testing.T) {
	rr := safetySetup(t)

	t.Run("absolute-symlink", func(t *testing.T) {
		e := safetyNewEnv(t)
		before := e.hostSnap()
		// $1 is the victim's host path; inside the chroot it names
		// rootfs/$1, which does not exist at first (a dangling link),
		// then is created as a decoy with its own mode and size.
		out := e.run(t, rr, `
cd /tmp
ln -s "$1" link
ln -s "$2" dlink
chown 1000:1000 link; echo "dangling-chown-rc $?"
echo "dangling-lsL-rc $(ls -lnL link >/dev/null 2>&1; echo $?)"
chown -h 1001:1002 link; echo "lchown-rc $?"
echo "ls-link $(ls -ln link | awk '{print $3":"$4}')"
echo "stat-link $(stat -c '%u:%g %F' link)"
mkdir -p "$2/sub"; printf decoy > "$1"; chmod 600 "$1"; echo sub > "$2/sub/f"
chown 1000:1003 link; echo "follow-chown-rc $?"
echo "statL-link $(stat -L -c '%u:%g %a %s ino=%i' link)"
echo "lsL-link $(ls -lnL link | awk '{print $1, $3":"$4, $5}')"
echo "stat-link-after $(stat -c '%u:%g %F' link)"
chown -R 1004:1005 link; echo "chownR-link-rc $?"
echo "statL-link-R $(stat -L -c '%u:%g ino=%i' link)"
chown -R 1006:1007 dlink/; echo "chownR-dlink-rc $?"
echo "stat-decoy-dir $(stat -c '%u:%g ino=%i' "$2" "$2/sub" "$2/sub/f" | tr '\n' ' ')"
stat link dlink "$1"
`, time.Minute)
		t.Logf("inside:\n%s", out)
		after := e.hostSnap()
		safetyCompare(t, "absolute symlink", before, after)
		safetyNoHostInode(t, out, after)

		// Inside, the kernel's resolution in the chroot.
		safetyExpect(t, out, "dangling-chown-rc", "1")
		safetyExpect(t, out, "dangling-lsL-rc", "1")
		safetyExpect(t, out, "lchown-rc", "0")
		safetyExpect(t, out, "ls-link", "1001:1002")
		safetyExpect(t, out, "stat-link", "1001:1002 symbolic link")
		safetyExpect(t, out, "follow-chown-rc", "0")
		decoy := e.inside(e.victim)
		dm, err := safetyLstat(decoy)
		if err != nil {
			t.Fatal(err)
		}
		safetyExpect(t, out, "statL-link", fmt.Sprintf("1000:1003 600 5 ino=%d", dm.Ino))
		safetyExpect(t, out, "lsL-link", "-rw------- 1000:1003 5")
		safetyExpect(t, out, "stat-link-after", "1001:1002 symbolic link")
		safetyExpect(t, out, "chownR-link-rc", "0")
		safetyExpect(t, out, "chownR-dlink-rc", "0")
		// The decoy (inside the root) carries what the chowns through the
		// links recorded; the links themselves cannot carry user xattrs.
		if got := safetyRecorded(t, filepath.Join(e.inside(e.victimDir), "sub", "f")); got != "1006:1007" {
			t.Errorf("decoy rootfs%s/sub/f: recorded owner %s, want 1006:1007 (chown -R dlink/)", e.victimDir, got)
		}
		if got := safetyRecorded(t, e.inside(e.victimDir)); got != "1006:1007" {
			t.Errorf("decoy dir rootfs%s: recorded owner %s, want 1006:1007", e.victimDir, got)
		}
		if got := safetyRecorded(t, filepath.Join(e.rootfs, "tmp", "link")); got != "none" {
			t.Errorf("rootfs/tmp/link: a symlink carries %s = %s", safetyXattr, got)
		}
		t.Logf("decoy %s recorded owner %s", decoy, safetyRecorded(t, decoy))
	})

	t.Run("dotdot", func(t *testing.T) {
		e := safetyNewEnv(t)
		before := e.hostSnap()
		out := e.run(t, rr, `
mkdir -p "$2/sub" /w/a/b; printf decoy > "$1"; chmod 640 "$1"
cd /w/a/b
up=../../../../../../../../..
chown 1000 "$up$1"; echo "dotdot-chown-rc $?"
echo "dotdot-stat $(stat -c '%u:%g %a %s ino=%i' "$up$1")"
echo "dotdot-ls $(ls -ln "$up$1" | awk '{print $3":"$4}')"
ln -s "$up$1" rel
chown 1010:1011 rel; echo "rel-chown-rc $?"
echo "rel-statL $(stat -L -c '%u:%g %s ino=%i' rel)"
chown -h 1012:1013 rel; echo "rel-lchown-rc $?"
echo "rel-stat $(stat -c '%u:%g %F' rel)"
ln -s "$up$2" reldir
chown -R 1014:1015 reldir/; echo "reldir-chownR-rc $?"
find reldir/ -exec stat -c 'found %n %u:%g ino=%i' {} +
cd /
chown 1016 "/..$1"; echo "rootdotdot-chown-rc $?"
echo "rootdotdot-stat $(stat -c '%u:%g' "/../../..$1")"
`, time.Minute)
		t.Logf("inside:\n%s", out)
		after := e.hostSnap()
		safetyCompare(t, "dot-dot chains", before, after)
		safetyNoHostInode(t, out, after)

		dm, err := safetyLstat(e.inside(e.victim))
		if err != nil {
			t.Fatal(err)
		}
		safetyExpect(t, out, "dotdot-chown-rc", "0")
		safetyExpect(t, out, "dotdot-stat", fmt.Sprintf("1000:0 640 5 ino=%d", dm.Ino))
		safetyExpect(t, out, "dotdot-ls", "1000:0")
		safetyExpect(t, out, "rel-chown-rc", "0")
		safetyExpect(t, out, "rel-statL", fmt.Sprintf("1010:1011 5 ino=%d", dm.Ino))
		safetyExpect(t, out, "rel-lchown-rc", "0")
		safetyExpect(t, out, "rel-stat", "1012:1013 symbolic link")
		safetyExpect(t, out, "reldir-chownR-rc", "0")
		safetyExpect(t, out, "rootdotdot-chown-rc", "0")
		safetyExpect(t, out, "rootdotdot-stat", "1016:1015")
		// reldir/ is the decoy directory inside the root: itself, sub
		// and the decoy file.
		if n := len(safetyLines(out, "found")); n != 3 {
			t.Errorf("find reldir/: want 3 entries (the decoy directory, sub, victim), got %d", n)
		}
		for _, l := range safetyLines(out, "found") {
			if !strings.Contains(l, " 1014:1015 ") {
				t.Errorf("find reldir/: %q: want owner 1014:1015", l)
			}
		}
		if got := safetyRecorded(t, e.inside(e.victim)); got != "1016:1015" {
			t.Errorf("decoy rootfs%s: recorded owner %s, want 1016:1015", e.victim, got)
		}
	})

	t.Run("swap-race", func(t *testing.T) {
		e := safetyNewEnv(t)
		before := e.hostSnap()
		// A background loop renames a real directory, an absolute
		// symlink to the victim's directory and a relative one in and
		// out of the name d, while chown -R, find -exec stat and ls -lnR
		// run on d for a few seconds. Every stat line lands in
		// /w/stat.out (read from the host afterwards).
		out := e.run(t, rr, `
mkdir -p "$2/sub" /w; printf decoy > "$1"; echo sub > "$2/sub/f"
cd /w
mkdir -p dreal/sub; touch dreal/f dreal/sub/g
ln -s "$2" dabs
ln -s ../../../../../../../..$2 drel
(
	while [ ! -e /w/stop ]; do
		mv dreal d; mv d dreal
		mv dabs d; mv d dabs
		mv dreal d; mv d dreal
		mv drel d; mv d drel
	done
) &
swapper=$!
end=$(( $(date +%s) + 5 ))
n=0 ok=0
while [ "$(date +%s)" -lt "$end" ]; do
	chown -R 1000:1000 d 2>/dev/null && ok=$((ok+1))
	chown -R 1001:1001 d/ 2>/dev/null && ok=$((ok+1))
	chown -h 1002:1002 d 2>/dev/null && ok=$((ok+1))
	find d d/ -exec stat -c 'ino=%i %u:%g %n' {} + >>/w/stat.out 2>/dev/null
	ls -lnR d/ >/dev/null 2>&1
	n=$((n+1))
done
touch /w/stop
wait $swapper
echo "iterations $n"
echo "successes $ok"
ls -la /w
`, 2*time.Minute)
		t.Logf("inside:\n%s", out)
		after := e.hostSnap()
		safetyCompare(t, "directory/symlink swap race", before, after)
		stats, err := os.ReadFile(filepath.Join(e.rootfs, "w", "stat.out"))
		if err != nil {
			t.Fatal(err)
		}
		safetyNoHostInode(t, string(stats), after)
		t.Logf("%d stat lines from find inside", bytes.Count(stats, []byte("\n")))
		if n, _ := strconv.Atoi(strings.Join(safetyLines(out, "iterations"), "")); n < 3 {
			t.Errorf("the race ran only %d iterations", n)
		}
		// The chowns did land, inside the root: on the real directory
		// or on the decoy the symlinks lead to in the chroot.
		landed := 0
		for _, p := range []string{
			filepath.Join(e.rootfs, "w", "dreal"), filepath.Join(e.rootfs, "w", "dreal", "f"),
			e.inside(e.victimDir), e.inside(filepath.Join(e.victimDir, "sub", "f")),
		} {
			if got := safetyRecorded(t, p); got != "none" {
				landed++
				t.Logf("%s: recorded owner %s", p, got)
			}
		}
		if landed == 0 {
			t.Errorf("no chown landed inside the root: the race did not exercise anything")
		}
	})
}

// safetyFchownatC is a static helper for the chroot: fchownat and fstatat
// relative to a directory descriptor (as GNU chown -R, tar and dpkg do).
const safetyFchownatC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct stat st;
	int dfd, rc;

	if (argc != 5) {
		fprintf(stderr, "usage: %s DIR NAME UID GID\n", argv[0]);
		return 2;
	}
	dfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (dfd < 0) {
		perror(argv[1]);
		return 2;
	}
	rc = fchownat(dfd, argv[2], atoi(argv[3]), atoi(argv[4]), AT_SYMLINK_NOFOLLOW);
	printf("dirfd %d\nfchownat-%s %s\n", dfd, argv[2], rc == 0 ? "ok" : strerror(errno));
	if (fstatat(dfd, argv[2], &st, AT_SYMLINK_NOFOLLOW) != 0)
		printf("fstatat-%s %s\n", argv[2], strerror(errno));
	else
		printf("fstatat-%s %u:%u\n", argv[2], (unsigned)st.st_uid, (unsigned)st.st_gid);
	return 0;
}
`

// TestSafetyDirfdWithoutProc: a *at chown relative to a directory
// descriptor, in a root whose /proc is not procfs (a build chroot before
// /proc is mounted) and holds look-alike /proc/self/fd/N directories. The
// kernel changes the file the descriptor names; the recorded owner must
// land there too, never on a look-alike.
func TestSafetyDirfdWithoutProc(t *testing.T) {
	rr := safetySetup(t)
	_, err := exec.LookPath("gcc")
	testenv.Need(t, err == nil, "gcc not found in PATH")
	src := filepath.Join(t.TempDir(), "fchownat-dirfd.c")
	if err := os.WriteFile(src, []byte(safetyFchownatC), 0o644); err != nil {
		t.Fatal(err)
	}
	helper := testenv.CompileC(t, src)
	e := safetyNewEnv(t)
	data, err := os.ReadFile(helper)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.rootfs, "bin", "fchownat-dirfd"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	before := e.hostSnap()
	out := e.run(t, rr, `
mkdir -p /w/d
touch /w/d/f /w/d/g
for n in 3 4 5 6 7 8 9; do mkdir -p /proc/self/fd/$n; touch /proc/self/fd/$n/f /proc/self/fd/$n/g; chown 4242:4243 /proc/self/fd/$n/g; done
/bin/fchownat-dirfd /w/d f 1000 1001
/bin/fchownat-dirfd /w/d g -1 -1
`, time.Minute)
	t.Logf("inside:\n%s", out)
	safetyCompare(t, "dirfd without /proc", before, e.hostSnap())
	dfd := strings.Join(safetyLines(out, "dirfd"), ",")
	safetyExpect(t, out, "fchownat-f", "ok")
	safetyExpect(t, out, "fstatat-f", "1000:1001")
	// g has no recorded owner (0:0); the look-alikes say 4242:4243.
	safetyExpect(t, out, "fchownat-g", "ok")
	safetyExpect(t, out, "fstatat-g", "0:0")
	if got := safetyRecorded(t, filepath.Join(e.rootfs, "w", "d", "f")); got != "1000:1001" {
		t.Errorf("rootfs/w/d/f (what the descriptor names): recorded owner %s, want 1000:1001", got)
	}
	for n := 3; n <= 9; n++ {
		p := filepath.Join(e.rootfs, "proc", "self", "fd", strconv.Itoa(n), "f")
		if got := safetyRecorded(t, p); got != "none" {
			t.Errorf("look-alike %s (the descriptor was %s): recorded owner %s: the owner landed on a file the call did not name", p, dfd, got)
		}
	}
}

// TestSafetyOwnershipSingleID checks the ownership semantics of mode full
// as the unprivileged user in a single-id namespace, reading the recorded
// owners back on the host.
func TestSafetyOwnershipSingleID(t *testing.T) {
	rr := safetySetup(t)
	const python = "/usr/bin/python3"
	_, err := os.Stat(python)
	testenv.Need(t, err == nil, "%s not found", python)
	busybox, err := exec.LookPath("busybox")
	testenv.Need(t, err == nil, "busybox not found in PATH (Debian's busybox-static)")
	uid, gid := testenv.UnprivUser(t)

	const pyScript = `
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_EMPTY_PATH = 0x1000
def own(p, follow=True):
    st = os.stat(p, follow_symlinks=follow)
    return "%d:%d" % (st.st_uid, st.st_gid)
def fchownat(fd, path, u, g, flags):
    if libc.fchownat(fd, path, ctypes.c_uint(u), ctypes.c_uint(g), flags) != 0:
        return "errno=%d" % ctypes.get_errno()
    return "ok"
# AT_EMPTY_PATH on a directory descriptor.
fd = os.open("t/a/b", os.O_RDONLY | os.O_DIRECTORY)
print("emptypath-dir", fchownat(fd, b"", 7000, 7001, AT_EMPTY_PATH), own("t/a/b"))
print("fstat-dir", "%d:%d" % (os.fstat(fd).st_uid, os.fstat(fd).st_gid))
os.close(fd)
# fchown, with -1 for the group.
fd = os.open("t/a/g", os.O_RDONLY)
os.fchown(fd, 7100, -1)
print("fchown-merge", own("t/a/g"))
os.close(fd)
# AT_EMPTY_PATH on an O_PATH descriptor of a regular file.
fd = os.open("t/a/b/h2", os.O_PATH)
print("emptypath-opath", fchownat(fd, b"", 7200, 7201, AT_EMPTY_PATH), own("t/a/b/h2"))
os.close(fd)
# AT_EMPTY_PATH on an O_PATH descriptor of a symlink: the link itself.
fd = os.open("t/l2", os.O_PATH | os.O_NOFOLLOW)
print("emptypath-opath-symlink", fchownat(fd, b"", 7300, 7301, AT_EMPTY_PATH), own("t/l2", False), own("t/f"))
os.close(fd)
# lchown with -1 for the owner (merge).
os.chown("t/a", -1, 9, follow_symlinks=False)
print("lchown-merge", own("t/a", False))
# The owner xattr is hidden; other user xattrs are not.
print("listxattr", sorted(os.listxattr("t/f")))
try:
    os.getxattr("t/f", "user.rootlesscontainers")
    print("getxattr", "found")
except OSError as e:
    print("getxattr", errno.errorcode[e.errno])
try:
    os.setxattr("t/f", "user.rootlesscontainers", b"\x08\x01")
    print("setxattr", "ok")
except OSError as e:
    print("setxattr", errno.errorcode[e.errno])
try:
    os.removexattr("t/f", "user.rootlesscontainers")
    print("removexattr", "ok")
except OSError as e:
    print("removexattr", errno.errorcode[e.errno])
os.setxattr("t/f", "user.other", b"1")
print("listxattr-other", sorted(os.listxattr("t/f")))
print("owner-after-xattr-calls", own("t/f"))
`
	script := `
own() { for p; do ls -lnd "$p" | { read -r m n u g rest; echo "own $p $u:$g"; }; done; }
mkdir -p t/a/b
touch t/f t/a/g t/a/b/h t/a/b/h2
ln -s f t/l
mkfifo t/p
touch t/suid; chmod 6755 t/suid
touch t/sgid; chmod 2755 t/sgid
chown -R 1000:2000 t; echo "chownR-rc $?"
own t t/a t/a/b t/f t/a/g t/a/b/h t/l t/p t/suid t/sgid
ls -lnR t
chown 3000 t/f; echo "merge-gid $(stat -c %u:%g t/f)"
chown :4000 t/a/g; echo "merge-uid $(stat -c %u:%g t/a/g)"
chown -h 5000:5001 t/l; echo "lchown $(stat -c %u:%g t/l) target $(stat -c %u:%g t/f)"
chown 6000:6001 t/l; echo "follow $(stat -c %u:%g t/l) target $(stat -c %u:%g t/f)"
chown 0:0 t/a/b/h; echo "zero $(stat -c %u:%g t/a/b/h)"
touch t/z; chown 0:0 t/z; echo "zero-new $(stat -c %u:%g t/z)"
chown 8000:8001 t/p; echo "fifo $(stat -c %u:%g t/p)"
ln -s f t/l2
chown 5:6 t/suid; echo "suid-after-chown $(stat -c '%A %u:%g' t/suid)"
chown :7 t/sgid; echo "sgid-after-chown $(stat -c '%A %u:%g' t/sgid)"
"$PYTHON" -c "$PYSCRIPT"
"$BUSYBOX" su -s /bin/sh nobody -c 'id -u; touch n; mkdir nd; ln -s n nl'
echo "nobody-created $(stat -c %u:%g n) $(stat -c %u:%g nd) $(stat -c %u:%g nl)"
own n nd nl
`
	cmd := testenv.SingleIDCommand(t, rr, "run", "--mode", "full", "--", "sh", "-c", script)
	cmd.Env = append(cmd.Env, "PYTHON="+python, "PYSCRIPT="+pyScript, "BUSYBOX="+busybox)
	dir := cmd.Dir
	out, errOut, code := testenv.Run(t, cmd, time.Minute)
	all := out + errOut
	if code != 0 {
		t.Fatalf("remainroot run --mode full exited %d\n%s", code, all)
	}
	t.Logf("inside:\n%s", all)

	for _, p := range []string{"t", "t/a", "t/a/b", "t/f", "t/a/g", "t/a/b/h", "t/l", "t/p", "t/suid", "t/sgid"} {
		safetyExpect(t, all, "own "+p, "1000:2000")
	}
	safetyExpect(t, all, "chownR-rc", "0")
	safetyExpect(t, all, "merge-gid", "3000:2000")
	safetyExpect(t, all, "merge-uid", "1000:4000")
	safetyExpect(t, all, "lchown", "5000:5001 target 3000:2000")
	safetyExpect(t, all, "follow", "5000:5001 target 6000:6001")
	safetyExpect(t, all, "zero", "0:0")
	safetyExpect(t, all, "zero-new", "0:0")
	safetyExpect(t, all, "fifo", "8000:8001")
	safetyExpect(t, all, "emptypath-dir", "ok 7000:7001")
	safetyExpect(t, all, "fstat-dir", "7000:7001")
	safetyExpect(t, all, "fchown-merge", "7100:4000")
	safetyExpect(t, all, "emptypath-opath", "ok 7200:7201")
	safetyExpect(t, all, "emptypath-opath-symlink", "ok 7300:7301 6000:6001")
	// chown(2): changing the owner or group of a regular file clears its
	// set-user-ID bit, and its set-group-ID bit when group-executable,
	// for root too (Linux since 2.2.13).
	safetyExpect(t, all, "suid-after-chown", "-rwxr-xr-x 5:6")
	safetyExpect(t, all, "sgid-after-chown", "-rwxr-xr-x 1000:7")
	safetyExpect(t, all, "lchown-merge", "1000:9")
	safetyExpect(t, all, "listxattr", "[]")
	safetyExpect(t, all, "getxattr", "ENODATA")
	safetyExpect(t, all, "setxattr", "EPERM")
	safetyExpect(t, all, "removexattr", "ENODATA")
	safetyExpect(t, all, "listxattr-other", "['user.other']")
	safetyExpect(t, all, "owner-after-xattr-calls", "6000:6001")
	safetyExpect(t, all, "nobody-created", "65534:65534 65534:65534 65534:65534")
	for _, p := range []string{"n", "nd", "nl"} {
		safetyExpect(t, all, "own "+p, "65534:65534")
	}

	// On the host: the real owner is the test user everywhere, and the
	// xattr records the emulated owner (none for objects that cannot carry
	// user xattrs: symlinks and FIFOs, and for a file only ever 0:0; an
	// explicit 0:0 for one chowned back to 0:0, so that a device node's
	// record stays readable behind it).
	want := map[string]string{
		"t": "1000:2000", "t/a": "1000:9", "t/a/b": "7000:7001", "t/f": "6000:6001",
		"t/a/g": "7100:4000", "t/a/b/h": "0:0", "t/z": "none", "t/a/b/h2": "7200:7201",
		"t/l": "none", "t/l2": "none", "t/p": "none", "n": "65534:65534", "nd": "65534:65534", "nl": "none",
	}
	for p, w := range want {
		full := filepath.Join(dir, p)
		if got := safetyRecorded(t, full); got != w {
			t.Errorf("host %s: recorded owner %s, want %s", full, got, w)
		}
		var st unix.Stat_t
		if err := unix.Lstat(full, &st); err != nil {
			t.Error(err)
		} else if int(st.Uid) != uid || int(st.Gid) != gid {
			t.Errorf("host %s: real owner %d:%d, want the test user's %d:%d", full, st.Uid, st.Gid, uid, gid)
		}
	}
	// chown 0:0 of a file without a record made none: ENODATA on the host.
	if _, err := unix.Lgetxattr(filepath.Join(dir, "t/z"), safetyXattr, make([]byte, 64)); !errors.Is(err, unix.ENODATA) {
		t.Errorf("host t/z after chown 0:0: getxattr %s: %v, want ENODATA", safetyXattr, err)
	}
}
