package main

// Workloads (vi) and (vii): dpkg installing local .deb files into an
// alternative root, as the (fake) root of the namespace.
//
// The outer process (as root) downloads real Debian packages once with
// `apt-get download` into debCacheDir and copies them, with one package it
// generates itself, into DIR/debs/<workload>/. The inner process reads each
// package's file list (`dpkg-deb --fsys-tarfile`) to check every install.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// debCacheDir keeps the downloaded packages between benches (root only;
// another user's cache is under os.UserCacheDir).
const debCacheDir = "/var/cache/remainroot-bench/debs"

// debSets are the packages of each dpkg workload. All are bookworm packages
// without maintainer scripts (dpkg would run those chrooted into the empty
// root, where there is no shell). Those of (vi) ship root-owned files only,
// so every runner can install them; those of (vii) ship files owned by
// other ids, which a single-id namespace cannot represent: chown to them is
// EINVAL there (and fakeroot and proot -0 only turn EPERM into success).
var debSets = map[string][]string{
	// iso-codes 1489 entries, manpages 305, manpages-dev 2277,
	// perl-modules-5.36 1414.
	"dpkg": {"iso-codes", "manpages", "manpages-dev", "perl-modules-5.36"},
	// liblockfile-bin: /usr/bin/dotlockfile root:mail 2755; libutempter0:
	// .../utempter/utempter root:utmp 2755 (and an ldconfig trigger, left
	// alone by --no-triggers); plus ownersDebName, generated.
	"dpkg-owners": {"liblockfile-bin", "libutempter0"},
}

// ownersDebName is the package generated for (vii): few Debian packages ship
// files owned by other users than root, and none without maintainer scripts.
const ownersDebName = "remainroot-bench-owners"

// unavailableFile, in a workload's deb directory, says why its packages are
// missing.
const unavailableFile = "UNAVAILABLE"

// dpkgArgs are the options of every dpkg run, before --install FILES:
//   - --root: install into DIR (admin dir DIR/var/lib/dpkg, prepared empty);
//   - --force-not-root: harmless as uid 0, needed where dpkg sees another;
//   - --force-unsafe-io: no fsync per file: the bench measures system call
//     overhead, not the disk;
//   - --no-triggers: libutempter0's ldconfig trigger would run ldconfig
//     chrooted into DIR;
//   - --force-depends: libc6, perl-base and the like are not in DIR;
//   - --log=/dev/null: /var/log/dpkg.log is not writable.
//
// No --force-script-chrootless: the packages have no maintainer scripts.
func dpkgArgs(root string) []string {
	return []string{"dpkg", "--root=" + root, "--force-not-root", "--force-unsafe-io",
		"--no-triggers", "--force-depends", "--log=/dev/null", "--install"}
}

// prepareDebs puts the packages of the selected dpkg workloads into
// dir/debs/<workload>/, downloading what the cache lacks. A set that cannot
// be prepared gets an unavailableFile saying why, and is not measured.
func prepareDebs(dir string, sel map[string]bool, asRoot bool) error {
	cache := debCacheDir
	if !asRoot {
		c, err := os.UserCacheDir()
		if err != nil {
			return err
		}
		cache = filepath.Join(c, "remainroot-bench", "debs")
	}
	var want []string
	for _, name := range []string{"dpkg", "dpkg-owners"} {
		if sel[name] {
			want = append(want, debSets[name]...)
		}
	}
	if len(want) == 0 {
		return nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return err
	}
	dlErr := downloadDebs(cache, want, asRoot)

	for _, name := range []string{"dpkg", "dpkg-owners"} {
		if !sel[name] {
			continue
		}
		out := filepath.Join(dir, "debs", name)
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		var missing []string
		for _, pkg := range debSets[name] {
			f := cachedDeb(cache, pkg)
			if f == "" {
				missing = append(missing, pkg)
				continue
			}
			if err := copyFile(f, filepath.Join(out, filepath.Base(f))); err != nil {
				return err
			}
			os.Chmod(filepath.Join(out, filepath.Base(f)), 0o644)
		}
		if name == "dpkg-owners" {
			if err := writeOwnersDeb(filepath.Join(out, ownersDebName+"_1.0_all.deb")); err != nil {
				return err
			}
		}
		if len(missing) > 0 {
			why := fmt.Sprintf("no .deb of %s in %s", strings.Join(missing, ", "), cache)
			if dlErr != nil {
				why += " (" + dlErr.Error() + ")"
			}
			fmt.Fprintf(os.Stderr, "bench: %s: (%s) not measured\n", why, name)
			if err := os.WriteFile(filepath.Join(out, unavailableFile), []byte(why+"\n"), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// cachedDeb is the newest PKG_*.deb in dir, or "".
func cachedDeb(dir, pkg string) string {
	m, _ := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	best, bestT := "", time.Time{}
	for _, f := range m {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() && fi.ModTime().After(bestT) {
			best, bestT = f, fi.ModTime()
		}
	}
	return best
}

// downloadDebs fetches with `apt-get download` the packages of pkgs that
// dir lacks; as root it runs `apt-get update` once if the first attempt
// fails.
func downloadDebs(dir string, pkgs []string, asRoot bool) error {
	var need []string
	for _, p := range pkgs {
		if cachedDeb(dir, p) == "" {
			need = append(need, p)
		}
	}
	if len(need) == 0 {
		return nil
	}
	fmt.Fprintf(os.Stderr, "bench: downloading %s into %s\n", strings.Join(need, " "), dir)
	get := func() ([]byte, error) {
		c := exec.Command("apt-get", append([]string{"download"}, need...)...)
		c.Dir = dir
		return c.CombinedOutput()
	}
	out, err := get()
	if err != nil && asRoot {
		fmt.Fprintln(os.Stderr, "bench: apt-get download failed; running apt-get update")
		u := exec.Command("apt-get", "update")
		u.Stdout, u.Stderr = os.Stderr, os.Stderr
		u.Run()
		out, err = get()
	}
	if err != nil {
		return fmt.Errorf("apt-get download: %v: %s", err, lastLine(out))
	}
	return nil
}

// ownersDirs are the directories of the generated package, each with its
// owner (names as in Debian's base-passwd; the last has no names, so dpkg
// uses its numeric ids) and the files in it.
var ownersDirs = []struct {
	uname, gname string
	uid, gid     int
	mode         int64
}{
	{"daemon", "daemon", 1, 1, 0o755},
	{"bin", "bin", 2, 2, 0o750},
	{"man", "man", 6, 12, 0o755},
	{"mail", "mail", 8, 8, 0o2775},
	{"www-data", "www-data", 33, 33, 0o750},
	{"nobody", "nogroup", 65534, 65534, 0o1777},
	{"root", "staff", 0, 50, 0o2775},
	{"games", "games", 5, 60, 0o755},
	{"", "", 1234, 5678, 0o700},
	{"root", "root", 0, 0, 0o755},
}

// ownersFilesPerDir files in each directory, with file i owned by the
// owner of directory (d+i)%len, so that owners and modes mix.
const ownersFilesPerDir = 40

// writeOwnersDeb writes the generated package: a Debian binary package (an
// ar archive of debian-binary, control.tar.gz and data.tar.gz) whose data
// holds 10 directories of 40 files, owned by 10 different ids and with
// set-id, sticky and private modes, and two symlinks.
func writeOwnersDeb(dst string) error {
	mtime := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var data bytes.Buffer
	dataSize := int64(0)
	err := writeTarGz(&data, func(tw *tar.Writer) error {
		dir := func(name string, uid, gid int, uname, gname string, mode int64) error {
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode,
				Uid: uid, Gid: gid, Uname: uname, Gname: gname, ModTime: mtime, Format: tar.FormatGNU})
		}
		for _, d := range []string{"./", "./usr/", "./usr/share/"} {
			if err := dir(d, 0, 0, "root", "root", 0o755); err != nil {
				return err
			}
		}
		base := "./usr/share/" + ownersDebName + "/"
		if err := dir(base, 0, 0, "root", "root", 0o755); err != nil {
			return err
		}
		fileModes := []int64{0o644, 0o640, 0o600, 0o2755, 0o4755, 0o444, 0o755, 0o664}
		for d, o := range ownersDirs {
			dname := fmt.Sprintf("%sd%02d-%s/", base, d, strconv.Itoa(o.uid))
			if err := dir(dname, o.uid, o.gid, o.uname, o.gname, o.mode); err != nil {
				return err
			}
			for i := 0; i < ownersFilesPerDir; i++ {
				fo := ownersDirs[(d+i)%len(ownersDirs)]
				body := fmt.Sprintf("remainroot bench: file %d of directory %d, owned by %d:%d\n", i, d, fo.uid, fo.gid)
				h := &tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("%sf%03d", dname, i),
					Mode: fileModes[(d*7+i)%len(fileModes)], Size: int64(len(body)),
					Uid: fo.uid, Gid: fo.gid, Uname: fo.uname, Gname: fo.gname, ModTime: mtime, Format: tar.FormatGNU}
				if err := tw.WriteHeader(h); err != nil {
					return err
				}
				if _, err := io.WriteString(tw, body); err != nil {
					return err
				}
				dataSize += int64(len(body))
			}
		}
		for i, target := range []string{"d00-1/f000", "d03-8"} {
			h := &tar.Header{Typeflag: tar.TypeSymlink, Name: fmt.Sprintf("%slink%d", base, i), Linkname: target,
				Mode: 0o777, Uname: "root", Gname: "root", ModTime: mtime, Format: tar.FormatGNU}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	ctl := fmt.Sprintf("Package: %s\nVersion: 1.0\nArchitecture: all\n"+
		"Maintainer: remainroot bench <bench@remainroot.invalid>\nInstalled-Size: %d\n"+
		"Section: misc\nPriority: optional\n"+
		"Description: files with many owners, generated by remainroot's test/bench\n"+
		" Installed by workload (vii) of make bench.\n", ownersDebName, (dataSize+1023)/1024+int64(len(ownersDirs)*4))
	var control bytes.Buffer
	err = writeTarGz(&control, func(tw *tar.Writer) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "./", Mode: 0o755,
			Uname: "root", Gname: "root", ModTime: mtime, Format: tar.FormatGNU}); err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "./control", Mode: 0o644,
			Size: int64(len(ctl)), Uname: "root", Gname: "root", ModTime: mtime, Format: tar.FormatGNU}); err != nil {
			return err
		}
		_, err := io.WriteString(tw, ctl)
		return err
	})
	if err != nil {
		return err
	}

	var ar bytes.Buffer
	ar.WriteString("!<arch>\n")
	for _, m := range []struct {
		name string
		body []byte
	}{{"debian-binary", []byte("2.0\n")}, {"control.tar.gz", control.Bytes()}, {"data.tar.gz", data.Bytes()}} {
		fmt.Fprintf(&ar, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", m.name, mtime.Unix(), 0, 0, "100644", len(m.body))
		ar.Write(m.body)
		if len(m.body)%2 == 1 {
			ar.WriteByte('\n')
		}
	}
	return os.WriteFile(dst, ar.Bytes(), 0o644)
}

func writeTarGz(w io.Writer, fill func(*tar.Writer) error) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	if err := fill(tw); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// debEntry is what a .deb says of one path, as find prints it after dpkg
// installed it: %y, %u:%g and %m.
type debEntry struct {
	typ   byte // find's %y: f, d, l
	owner string
	mode  string // octal permission bits, as %m
	// ambiguous: the path is in several packages with different owners or
	// modes (the first installed wins): not checked.
	ambiguous bool
}

// debSet is the packages of one dpkg workload.
type debSet struct {
	files    []string // absolute paths of the .deb files, sorted
	pkgs     []string // their package names
	entries  map[string]*debEntry
	nonRoot  int // entries (files and directories) owned by other ids than 0:0
	notReady string
}

// loadDebSet reads dir (DIR/debs/<workload>): the .deb files and what
// each would install.
func loadDebSet(dir string) *debSet {
	s := &debSet{entries: map[string]*debEntry{}}
	if b, err := os.ReadFile(filepath.Join(dir, unavailableFile)); err == nil {
		s.notReady = strings.TrimSpace(string(b))
		return s
	}
	s.files, _ = filepath.Glob(filepath.Join(dir, "*.deb"))
	sort.Strings(s.files)
	if len(s.files) == 0 {
		s.notReady = "no .deb files in " + dir
		return s
	}
	names := newOwnerNames()
	for _, f := range s.files {
		pkg, err := exec.Command("dpkg-deb", "--field", f, "Package").Output()
		if err != nil {
			s.notReady = fmt.Sprintf("dpkg-deb --field %s: %v", f, err)
			return s
		}
		s.pkgs = append(s.pkgs, strings.TrimSpace(string(pkg)))
		if err := s.readData(f, names); err != nil {
			s.notReady = fmt.Sprintf("%s: %v", f, err)
			return s
		}
	}
	for _, e := range s.entries {
		if !e.ambiguous && e.typ != 'l' && e.owner != "root:root" {
			s.nonRoot++
		}
	}
	return s
}

// readData adds the entries of the data archive of deb f.
func (s *debSet) readData(f string, names *ownerNames) error {
	cmd := exec.Command("dpkg-deb", "--fsys-tarfile", f)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	tr := tar.NewReader(out)
	var rerr error
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			rerr = err
			break
		}
		p := strings.TrimSuffix(path.Clean(strings.TrimPrefix(h.Name, "./")), "/")
		if p == "." || p == "" {
			continue
		}
		e := &debEntry{
			owner: names.user(h.Uname, h.Uid) + ":" + names.group(h.Gname, h.Gid),
			mode:  strconv.FormatInt(h.Mode&0o7777, 8),
		}
		switch h.Typeflag {
		case tar.TypeDir:
			e.typ = 'd'
		case tar.TypeSymlink:
			e.typ, e.mode = 'l', "777"
		case tar.TypeReg, tar.TypeLink:
			e.typ = 'f'
		default:
			e.typ = '?'
		}
		if old, ok := s.entries[p]; ok {
			if *old != *e {
				old.ambiguous = true
			}
			continue
		}
		s.entries[p] = e
	}
	io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("dpkg-deb --fsys-tarfile: %v %s", err, lastLine(stderr.Bytes()))
	}
	return rerr
}

// ownerNames resolves owners as dpkg and find do: dpkg takes the name in
// the archive if this system knows it, else the numeric id; find prints
// the name of the id, else the number.
type ownerNames struct{ users, groups map[string]string }

func newOwnerNames() *ownerNames {
	return &ownerNames{users: map[string]string{}, groups: map[string]string{}}
}

func (n *ownerNames) user(name string, id int) string {
	k := name + "/" + strconv.Itoa(id)
	if v, ok := n.users[k]; ok {
		return v
	}
	if name != "" {
		if u, err := user.Lookup(name); err == nil {
			id, _ = strconv.Atoi(u.Uid)
		}
	}
	v := strconv.Itoa(id)
	if u, err := user.LookupId(v); err == nil {
		v = u.Username
	}
	n.users[k] = v
	return v
}

func (n *ownerNames) group(name string, id int) string {
	k := name + "/" + strconv.Itoa(id)
	if v, ok := n.groups[k]; ok {
		return v
	}
	if name != "" {
		if g, err := user.LookupGroup(name); err == nil {
			id, _ = strconv.Atoi(g.Gid)
		}
	}
	v := strconv.Itoa(id)
	if g, err := user.LookupGroupId(v); err == nil {
		v = g.Name
	}
	n.groups[k] = v
	return v
}

// newDpkgRoot creates an empty instdir with the admin directory dpkg needs.
func newDpkgRoot(root string) error {
	for _, d := range []string{"info", "updates", "triggers"} {
		if err := os.MkdirAll(filepath.Join(root, "var/lib/dpkg", d), 0o755); err != nil {
			return err
		}
	}
	for _, f := range []string{"status", "available"} {
		if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg", f), nil, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// checkDpkg verifies an install into root under runner: every package is
// installed ("ii"), every path of the packages is there with its type and
// mode, and, under remainroot full, with its owner. The listing is made by
// find under remainroot full for that runner (the owners are in xattrs
// that only it reports), natively for the others. It returns what was
// checked.
func (in *inner) checkDpkg(s *debSet, root, runner string) (string, error) {
	st, err := exec.Command("dpkg-query", "--root="+root, "-W", "-f=${db:Status-Abbrev}|${Package}\n").Output()
	if err != nil {
		return "", fmt.Errorf("dpkg-query --root=%s -W: %v", root, err)
	}
	status := map[string]string{}
	for _, l := range strings.Split(string(st), "\n") {
		if a, p, ok := strings.Cut(l, "|"); ok {
			status[p] = strings.TrimSpace(a)
		}
	}
	for _, p := range s.pkgs {
		if status[p] != "ii" {
			return "", fmt.Errorf("dpkg-query: %s is %q, want \"ii\"", p, status[p])
		}
	}

	argv := []string{"find", root, "-printf", "%y %u:%g %m %P\\0"}
	if runner == rFull {
		argv = in.wrap(rFull, argv, "")
	}
	r := in.execRun(argv, in.o.timeout)
	if r.err != nil {
		return "", fmt.Errorf("listing %s: %v", strings.Join(argv, " "), r.err)
	}
	got := map[string]string{}
	for _, rec := range strings.Split(string(r.stdout), "\x00") {
		f := strings.SplitN(rec, " ", 4)
		if len(f) == 4 && f[3] != "" {
			got[f[3]] = f[0] + " " + f[1] + " " + f[2]
		}
	}
	paths := make([]string, 0, len(s.entries))
	for p := range s.entries {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	checkOwners := runner == rFull
	owners, bad := 0, 0
	var first string
	var examples []string
	for _, p := range paths {
		e := s.entries[p]
		g, ok := got[p]
		if !ok {
			bad++
			if first == "" {
				first = p + ": missing"
			}
			continue
		}
		f := strings.Fields(g)
		want := []string{string(e.typ), e.owner, e.mode}
		if e.typ == 'l' || e.ambiguous || !checkOwners {
			want[1] = f[1] // symlinks keep no owner after the tracer exits
		}
		if e.ambiguous {
			want[2] = f[2]
		}
		if f[0] != want[0] || f[1] != want[1] || f[2] != want[2] {
			bad++
			if first == "" {
				first = fmt.Sprintf("%s: %s, want %s", p, g, strings.Join(want, " "))
			}
			continue
		}
		if checkOwners && e.typ != 'l' && !e.ambiguous && e.owner != "root:root" {
			owners++
			if len(examples) < 3 {
				examples = append(examples, fmt.Sprintf("%s %s %s", p, f[1], f[2]))
			}
		}
	}
	if bad > 0 {
		return "", fmt.Errorf("%d of %d paths not as in the .debs (type owner mode), first %s", bad, len(paths), first)
	}
	if checkOwners {
		msg := fmt.Sprintf("%d paths as in the .debs, with owners (%d not root:root)", len(paths), owners)
		if len(examples) > 0 {
			msg += ", e.g. " + strings.Join(examples, ", ")
		}
		return msg, nil
	}
	return fmt.Sprintf("%d paths as in the .debs (type and mode; owners not recorded by this runner)", len(paths)), nil
}

// dpkgError picks from dpkg's stderr the first error with its reason:
// "dpkg: error processing archive X (--install):" and the indented line
// after it.
func dpkgError(stderr []byte) string {
	lines := strings.Split(string(stderr), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "dpkg: error") {
			msg := strings.TrimSpace(l)
			// "archive /long/dir/NAME.deb": the name says enough.
			if a, b, ok := strings.Cut(msg, "archive "); ok {
				if f, rest, ok := strings.Cut(b, " "); ok {
					msg = a + "archive " + filepath.Base(f) + " " + rest
				}
			}
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], " ") {
				msg += " " + strings.TrimSpace(lines[i+1])
			}
			return clip(msg, 400)
		}
	}
	return ""
}
