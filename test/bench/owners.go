package main

// Workload (ix), image-owners: what reading the owners an image's layers
// give its files (package imagestore, mode full) adds to a container's
// start, for an image of 50,000 files of which a known number are not
// root's, and for the same image with ten times as many of them.

import (
	"archive/tar"
	"bufio"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/imagestore"
)

// imgOwnersFiles is the number of regular files of each image-owners image,
// in imgOwnersDirs directories, besides /bin/busybox.
const (
	imgOwnersFiles = 50000
	imgOwnersDirs  = 100
)

// ownersNotRoot are the image-owners images: how many of their files are
// not root's (uid 1000, gid 1000).
var ownersNotRoot = []int{500, 5000}

// ownersTargetMS: image owners add at most this much to a container's
// start, for an image of imgOwnersFiles files (issue 18).
const ownersTargetMS = 100.0

// OwnersImage is one image of the image-owners workload. Seconds each run.
type OwnersImage struct {
	Files   int `json:"files"`
	NotRoot int `json:"not_root"`
	// Native: podman run without the annotation; Cold: with
	// io.remainroot.mode=full and the user's cached owners of the image
	// removed before; Warm: the same with the cache the cold run wrote.
	Native []float64 `json:"native_s"`
	Cold   []float64 `json:"full_cold_s"`
	Warm   []float64 `json:"full_warm_s"`
	// HookCold, HookWarm: what the hook's log says reading and resolving
	// the owners took ("image owners ... took="), wall clock, on the
	// goroutine that reads them while the container starts.
	HookCold []float64 `json:"hook_cold_s"`
	HookWarm []float64 `json:"hook_warm_s"`
	// AddedCold, AddedWarm: what the read added to the start, from the
	// log: the time the hook (the supervisor or the tracer) blocked to
	// start it ("image owners reading ... blocked=") plus the time the
	// first call needing the owners waited for them ("image owners
	// first needed ... waited="). NeededCold, NeededWarm: when that
	// call came, after the read began ("after=").
	AddedCold  []float64 `json:"added_cold_s"`
	AddedWarm  []float64 `json:"added_warm_s"`
	NeededCold []float64 `json:"needed_after_cold_s"`
	NeededWarm []float64 `json:"needed_after_warm_s"`
	// APICold, APIWarm: imagestore's Store.Owners on the user's store,
	// in this process, without a cache and from one; wall and CPU time.
	APICold    []float64 `json:"api_cold_s"`
	APIColdCPU []float64 `json:"api_cold_cpu_s"`
	APIWarm    []float64 `json:"api_warm_s"`
	APIWarmCPU []float64 `json:"api_warm_cpu_s"`
	TarMiB     float64   `json:"tar_mib"`
	SplitKiB   float64   `json:"tar_split_kib"`
	CacheKiB   float64   `json:"cache_kib"`
}

// writeOwnersTar writes the image's files: /bin/busybox (a static binary
// from the host, the command the container runs) and imgOwnersFiles files of
// 16 bytes, every (imgOwnersFiles/notRoot)th one owned by 1000:1000.
func writeOwnersTar(path, busybox string, notRoot int) error {
	bb, err := os.ReadFile(busybox)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	tw := tar.NewWriter(bw)
	mtime := time.Unix(1700000000, 0)
	dir := func(name string) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: mtime, Format: tar.FormatUSTAR})
	}
	file := func(name string, mode int64, uid int, body []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Uid: uid, Gid: uid,
			Size: int64(len(body)), ModTime: mtime, Format: tar.FormatUSTAR}); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	err = errors.Join(dir("bin/"), file("bin/busybox", 0o755, 0, bb), dir("data/"))
	every := imgOwnersFiles / notRoot
	body := []byte("0123456789abcde\n")
	for d := 0; d < imgOwnersDirs && err == nil; d++ {
		err = dir(fmt.Sprintf("data/d%03d/", d))
		for i := 0; i < imgOwnersFiles/imgOwnersDirs && err == nil; i++ {
			n := d*(imgOwnersFiles/imgOwnersDirs) + i
			uid := 0
			if n%every == 0 {
				uid = 1000
			}
			err = file(fmt.Sprintf("data/d%03d/f%05d", d, n), 0o644, uid, body)
		}
	}
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// staticELF says whether path is an executable without an interpreter.
func staticELF(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

// The log lines of the image owners (package hook): the read's result and
// its time, the time the hook blocked to start it, and the first wait for
// it.
var (
	hookTook    = regexp.MustCompile(`msg="image owners" .*not-root=(\d+) .*took=(\S+)`)
	hookBlocked = regexp.MustCompile(`msg="image owners reading" .*blocked=(\S+)`)
	hookWaited  = regexp.MustCompile(`msg="image owners first needed" .*waited=(\S+) after=(\S+)`)
)

// ownersStart is what a container's log says of its image owners.
type ownersStart struct {
	notRoot int
	// took: the read; blocked: the hook's wait to start it; waited: the
	// first wait for it, after the read began. Seconds.
	took, blocked, waited, after float64
}

// ownersLog finds and removes the log of container id (the hook writes it
// in /run/remainroot or in /tmp/remainroot-UID) and returns what it says
// of the image owners.
func ownersLog(id string, uid int) (ownersStart, error) {
	var s ownersStart
	if id == "" {
		return s, errors.New("no container id")
	}
	for _, d := range []string{"/run/remainroot", filepath.Join(os.TempDir(), "remainroot-"+strconv.Itoa(uid))} {
		p := filepath.Join(d, id+".log")
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		os.Remove(p)
		took, blocked, waited := hookTook.FindSubmatch(data), hookBlocked.FindSubmatch(data), hookWaited.FindSubmatch(data)
		if took == nil || blocked == nil || waited == nil {
			return s, fmt.Errorf("%s: no image owners lines (result %v, start %v, first wait %v): %s",
				p, took != nil, blocked != nil, waited != nil, lastLine(data))
		}
		s.notRoot, _ = strconv.Atoi(string(took[1]))
		var errs []error
		for _, f := range []struct {
			v   *float64
			raw []byte
		}{{&s.took, took[2]}, {&s.blocked, blocked[1]}, {&s.waited, waited[1]}, {&s.after, waited[2]}} {
			d, err := time.ParseDuration(string(f.raw))
			*f.v = d.Seconds()
			errs = append(errs, err)
		}
		return s, errors.Join(errs...)
	}
	return s, fmt.Errorf("no log of container %s", id)
}

// processCPU is this process's user and system time, in seconds.
func processCPU() float64 {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// measureImageOwners imports the images (untimed), then in each round
// starts a container of each natively, in mode full with the user's
// cached owners removed (cold), and again (warm), and times
// imagestore's Store.Owners on the same store.
func measureImageOwners(o options, dir, rrBin string, u podmanUser) *ImageResult {
	res := &ImageResult{Name: "image-owners"}
	fail := func(format string, a ...any) *ImageResult {
		res.Err = fmt.Sprintf(format, a...)
		res.Owners = nil
		progress("(ix) image-owners fails: %s", res.Err)
		return res
	}
	if _, err := exec.LookPath("podman"); err != nil {
		res.NotRun = "no podman"
		return res
	}
	if _, err := os.Stat(rrBin); err != nil {
		res.NotRun = "no remainroot binary"
		return res
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil || !staticELF(busybox) {
		res.NotRun = "no static busybox on the host (apt-get install busybox-static)"
		return res
	}
	pw, err := user.LookupId(strconv.Itoa(u.uid))
	if err != nil || pw.HomeDir == "" {
		res.NotRun = fmt.Sprintf("uid %d has no home: no cache of image owners", u.uid)
		return res
	}
	// The hook runs with an empty environment: the cache is under the
	// home directory /etc/passwd gives.
	cacheDir := filepath.Join(pw.HomeDir, ".cache", "remainroot", "image-owners")

	hooks, precreate, tmp := filepath.Join(dir, "hooks.d"), filepath.Join(dir, "precreate.d"), filepath.Join(dir, "tmp")
	for _, d := range []string{hooks, precreate, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fail("%v", err)
		}
	}
	if err := os.Chown(tmp, u.uid, u.gid); err != nil {
		return fail("%v", err)
	}
	for _, h := range []struct {
		dir, file string
		args      []string
	}{
		{hooks, "remainroot.json", nil},
		{precreate, "remainroot-precreate.json", []string{"--precreate"}},
	} {
		j, err := exec.Command(rrBin, append(append([]string{"hooks-json"}, h.args...), "--path", rrBin)...).Output()
		if err != nil {
			return fail("remainroot hooks-json %s: %v", strings.Join(h.args, " "), err)
		}
		if err := os.WriteFile(filepath.Join(h.dir, h.file), j, 0o644); err != nil {
			return fail("%v", err)
		}
	}
	info, err := u.podman(time.Minute, "info", "--format", "{{.Store.GraphRoot}} {{.Store.GraphDriverName}}")
	if err != nil {
		return fail("%v", err)
	}
	f := strings.Fields(info)
	if len(f) != 2 {
		return fail("podman info: store %q", strings.TrimSpace(info))
	}
	store := imagestore.Store{GraphRoot: f[0], Driver: f[1]}
	res.Store = store.Driver

	suffix := make([]byte, 4)
	rand.Read(suffix)
	name := "localhost/rr-bench-owners-" + hex.EncodeToString(suffix)
	apiCache := filepath.Join(dir, "api-cache")
	discard := slog.New(slog.DiscardHandler)

	type image struct {
		ref, top string
		r        *OwnersImage
	}
	var images []image
	defer func() {
		for _, im := range images {
			u.podman(2*time.Minute, "rmi", "-f", im.ref)
			removeCached(cacheDir, im.top)
		}
	}()
	for _, n := range ownersNotRoot {
		im := image{ref: fmt.Sprintf("%s:n%d", name, n), r: &OwnersImage{Files: imgOwnersFiles + 1, NotRoot: n}}
		tarPath := filepath.Join(tmp, fmt.Sprintf("owners-%d.tar", n))
		if err := writeOwnersTar(tarPath, busybox, n); err != nil {
			return fail("%v", err)
		}
		if st, err := os.Stat(tarPath); err == nil {
			im.r.TarMiB = float64(st.Size()) / (1 << 20)
		}
		os.Chown(tarPath, u.uid, u.gid)
		progress("(ix) image-owners: podman import of %d files, %d not root's, as %s (untimed)", imgOwnersFiles+1, n, im.ref)
		_, err := u.run(tmp, 10*time.Minute, "podman", "import", tarPath, im.ref)
		os.Remove(tarPath)
		if err != nil {
			return fail("%v", err)
		}
		images = append(images, im)
		out, err := u.podman(time.Minute, "image", "inspect", "--format", "{{.Id}}", im.ref)
		if err != nil {
			return fail("%v", err)
		}
		top, err := store.ImageTopLayer(strings.TrimSpace(out))
		if err != nil {
			return fail("%v", err)
		}
		images[len(images)-1].top = top
		res.Owners = append(res.Owners, im.r)
	}

	start := func(im image, full bool) (float64, string, error) {
		cid := filepath.Join(tmp, "cid-"+hex.EncodeToString(suffix)+strconv.FormatInt(time.Now().UnixNano(), 36))
		defer os.Remove(cid)
		args := []string{"podman", "--hooks-dir", hooks, "--hooks-dir", precreate, "run", "--rm", "--network=none", "--cidfile", cid}
		if full {
			args = append(args, "--annotation", "io.remainroot.mode=full")
		}
		r, err := u.run(tmp, o.timeout, append(args, im.ref, "/bin/busybox", "echo", "first")...)
		id := ""
		if b, rerr := os.ReadFile(cid); rerr == nil {
			id = strings.TrimSpace(string(b))
		}
		if err != nil {
			return 0, id, err
		}
		if r.stdout != "first\n" {
			return 0, id, fmt.Errorf("podman run printed %q, not first", r.stdout)
		}
		return r.seconds, id, nil
	}
	// fullStart starts a mode full container and reads its log.
	fullStart := func(im image) (float64, ownersStart, error) {
		s, id, err := start(im, true)
		if err != nil {
			ownersLog(id, u.uid)
			return 0, ownersStart{}, err
		}
		ls, err := ownersLog(id, u.uid)
		if err != nil {
			return 0, ls, err
		}
		if ls.notRoot != im.r.NotRoot {
			return 0, ls, fmt.Errorf("the hook found %d files not root's, not %d", ls.notRoot, im.r.NotRoot)
		}
		return s, ls, nil
	}

	for _, im := range images {
		// The tar-split's and cache's sizes; untimed warm-ups, natively and
		// in mode full (the layer in the page cache for every run alike).
		if st, err := os.Stat(store.TarSplitPath(im.top)); err == nil {
			im.r.SplitKiB = float64(st.Size()) / 1024
		}
		progress("(ix) image-owners %d/%d: warm-up starts", im.r.NotRoot, im.r.Files)
		if _, _, err := start(im, false); err != nil {
			return fail("warm-up: %v", err)
		}
		if _, _, err := fullStart(im); err != nil {
			return fail("warm-up, mode full: %v", err)
		}
		if c := cachedFiles(cacheDir, im.top); len(c) == 1 {
			if st, err := os.Stat(c[0]); err == nil {
				im.r.CacheKiB = float64(st.Size()) / 1024
			}
		}
	}
	for i := 1; i <= o.runs; i++ {
		for _, im := range images {
			what := fmt.Sprintf("(ix) image-owners %d/%d", im.r.NotRoot, im.r.Files)
			s, _, err := start(im, false)
			if err != nil {
				return fail("run %d/%d, native: %v", i, o.runs, err)
			}
			removeCached(cacheDir, im.top)
			cold, coldLog, err := fullStart(im)
			if err != nil {
				return fail("run %d/%d, mode full, cold: %v", i, o.runs, err)
			}
			if len(cachedFiles(cacheDir, im.top)) != 1 {
				return fail("run %d/%d: the cold start wrote no cache in %s", i, o.runs, cacheDir)
			}
			warm, warmLog, err := fullStart(im)
			if err != nil {
				return fail("run %d/%d, mode full, warm: %v", i, o.runs, err)
			}
			r := im.r
			r.Native, r.Cold, r.Warm = append(r.Native, s), append(r.Cold, cold), append(r.Warm, warm)
			r.HookCold, r.HookWarm = append(r.HookCold, coldLog.took), append(r.HookWarm, warmLog.took)
			r.AddedCold = append(r.AddedCold, coldLog.blocked+coldLog.waited)
			r.AddedWarm = append(r.AddedWarm, warmLog.blocked+warmLog.waited)
			r.NeededCold, r.NeededWarm = append(r.NeededCold, coldLog.after), append(r.NeededWarm, warmLog.after)

			// imagestore's API in this process: no cache, then a cache
			// of its own (written by the first call).
			os.RemoveAll(apiCache)
			for _, c := range []struct {
				cacheDir     string
				wall, cpu    *[]float64
				wantCached   bool
				primeFirstly bool
			}{
				{"", &r.APICold, &r.APIColdCPU, false, false},
				{apiCache, &r.APIWarm, &r.APIWarmCPU, true, true},
			} {
				if c.primeFirstly {
					store.Owners(im.top, c.cacheDir, discard)
				}
				cpu, t0 := processCPU(), time.Now()
				t, cached, err := store.Owners(im.top, c.cacheDir, discard)
				wall, cpuS := time.Since(t0).Seconds(), processCPU()-cpu
				if err != nil || cached != c.wantCached || len(t) != r.NotRoot {
					return fail("run %d/%d: Store.Owners(%s): %d entries, cached %v, %v", i, o.runs, im.top, len(t), cached, err)
				}
				*c.wall, *c.cpu = append(*c.wall, wall), append(*c.cpu, cpuS)
			}
			progress("%s run %d/%d: native %.3f s, full cold %.3f s (read %.1f ms, added %.1f ms: blocked %.3f, waited %.1f, needed after %.1f), warm %.3f s (read %.1f ms, added %.1f ms); Store.Owners %.1f ms (cpu %.1f), cached %.2f ms",
				what, i, o.runs, s, cold, coldLog.took*1e3, (coldLog.blocked+coldLog.waited)*1e3, coldLog.blocked*1e3, coldLog.waited*1e3, coldLog.after*1e3,
				warm, warmLog.took*1e3, (warmLog.blocked+warmLog.waited)*1e3,
				r.APICold[len(r.APICold)-1]*1e3, r.APIColdCPU[len(r.APIColdCPU)-1]*1e3, r.APIWarm[len(r.APIWarm)-1]*1e3)
		}
	}
	os.RemoveAll(apiCache)
	return res
}

// cachedFiles are the user's cached owners of top layer top (one per
// store holding it).
func cachedFiles(cacheDir, top string) []string {
	if top == "" {
		return nil
	}
	m, _ := filepath.Glob(filepath.Join(cacheDir, top+"-*"))
	return m
}

// removeCached removes them.
func removeCached(cacheDir, top string) {
	for _, f := range cachedFiles(cacheDir, top) {
		os.Remove(f)
	}
}

// ownersRows is the image-owners table: a header, then one row per image.
func ownersRows(images []*ImageResult) [][]string {
	rows := [][]string{{"workload", "not root / files", "native s", "full cold s", "full warm s", "cold +ms", "warm +ms",
		"added cold ms", "added warm ms", "read cold ms", "read warm ms", "Owners() ms (cpu)", "cached ms (cpu)"}}
	ms := func(v []float64) string { return fmt.Sprintf("%.1f", median(v)*1e3) }
	for _, ir := range images {
		if ir.Name != "image-owners" {
			continue
		}
		name := "(" + info(ir.Name).roman + ") " + ir.Name
		if !ir.OK() {
			cell := "fails"
			if ir.NotRun != "" {
				cell = "n/a"
			}
			rows = append(rows, []string{name, "-", cell, cell, cell, "-", "-", "-", "-", "-", "-", "-", "-"})
			continue
		}
		for _, r := range ir.Owners {
			native := median(r.Native)
			rows = append(rows, []string{name, fmt.Sprintf("%d / %d", r.NotRoot, r.Files),
				fmt.Sprintf("%.3f", native), fmt.Sprintf("%.3f", median(r.Cold)), fmt.Sprintf("%.3f", median(r.Warm)),
				fmt.Sprintf("%+.0f", (median(r.Cold)-native)*1e3), fmt.Sprintf("%+.0f", (median(r.Warm)-native)*1e3),
				ms(r.AddedCold), ms(r.AddedWarm), ms(r.HookCold), ms(r.HookWarm),
				ms(r.APICold) + " (" + ms(r.APIColdCPU) + ")", fmt.Sprintf("%.2f (%.2f)", median(r.APIWarm)*1e3, median(r.APIWarmCPU)*1e3)})
		}
	}
	return rows
}

// ownersLabel describes the image-owners images.
func ownersLabel(ir *ImageResult) string {
	var parts []string
	for _, r := range ir.Owners {
		parts = append(parts, fmt.Sprintf("%d not root's: tar %.1f MiB, tar-split %.0f KiB, cached owners %.1f KiB",
			r.NotRoot, r.TarMiB, r.SplitKiB, r.CacheKiB))
	}
	s := info(ir.Name).label
	if ir.Store != "" {
		s += "; store driver " + ir.Store
	}
	if ir.Store == "vfs" {
		s += " (each podman run copies the image's files into the container's layer, and removes them: the starts measure that copy, not the owners)"
	}
	if len(parts) > 0 {
		s += "; " + strings.Join(parts, "; ")
	}
	return s
}

// ownersTargets prints the image-owners target: what the hook's log says
// reading the owners took at start, for ownersNotRoot[0] of imgOwnersFiles.
func ownersTargets(item func(string, ...any), images []*ImageResult) {
	var ir *ImageResult
	for _, x := range images {
		if x.Name == "image-owners" {
			ir = x
		}
	}
	name := "(" + info("image-owners").roman + ") image-owners"
	goal := fmt.Sprintf("image owners add <= %.0f ms at start for %d files, from the cache and cold (warm / cold)", ownersTargetMS, imgOwnersFiles)
	switch {
	case ir == nil:
		item("%-16s %s: not run (-only)", name, goal)
	case ir.NotRun != "":
		item("%-16s %s: unknown (not run: %s)", name, goal, ir.NotRun)
	case !ir.OK():
		item("%-16s %s: MISS (fails)", name, goal)
	default:
		r := ir.Owners[0]
		warm, cold := median(r.AddedWarm)*1e3, median(r.AddedCold)*1e3
		native := median(r.Native)
		item("%-16s %s: %.1f / %.1f ms  %s (%d of %d files not root's; added: the hook's wait to start the read plus the first wait of a call needing the owners, from the log; the read itself, on its own goroutine while the container starts: %.1f / %.1f ms wall, first needed %.1f / %.1f ms after it began; Store.Owners in-process: %.1f ms cold, cpu %.1f; cached %.2f ms; the whole mode full start %+.0f / %+.0f ms against the native %.3f s, mode full's other costs and the machine's noise included)",
			name, goal, warm, cold, passMiss(warm <= ownersTargetMS && cold <= ownersTargetMS), r.NotRoot, r.Files,
			median(r.HookWarm)*1e3, median(r.HookCold)*1e3, median(r.NeededWarm)*1e3, median(r.NeededCold)*1e3,
			median(r.APICold)*1e3, median(r.APIColdCPU)*1e3, median(r.APIWarm)*1e3,
			(median(r.Warm)-native)*1e3, (median(r.Cold)-native)*1e3, native)
		for _, x := range ir.Owners[1:] {
			item("%-16s with %d of %d files not root's: added %.1f / %.1f ms, read %.1f / %.1f ms (Store.Owners in-process: %.1f ms cold, cpu %.1f; cached %.2f ms): from the cache the cost grows with the files not root's; cold, with the size of the tar-split of every layer not yet cached (each layer's owners are cached: an image on a cached base reads only its own layers; these images have one layer)",
				"", x.NotRoot, x.Files, median(x.AddedWarm)*1e3, median(x.AddedCold)*1e3, median(x.HookWarm)*1e3, median(x.HookCold)*1e3,
				median(x.APICold)*1e3, median(x.APIColdCPU)*1e3, median(x.APIWarm)*1e3)
		}
	}
}

// ownersRuns prints the individual runs.
func ownersRuns(item func(string, ...any), ir *ImageResult) {
	load := ""
	if ir.LoadAfter != "" {
		load = " (load " + ir.LoadAfter + " after)"
	}
	for _, r := range ir.Owners {
		item("(%s) %s %d/%d%s: native %s; full cold %s (added %s ms, read %s ms); full warm %s (added %s ms, read %s ms)", info(ir.Name).roman, ir.Name,
			r.NotRoot, r.Files, load, secondsList(r.Native), secondsList(r.Cold), msList(r.AddedCold), msList(r.HookCold),
			secondsList(r.Warm), msList(r.AddedWarm), msList(r.HookWarm))
	}
}

func msList(v []float64) string {
	s := make([]string, len(v))
	for i, t := range v {
		s[i] = fmt.Sprintf("%.1f", t*1e3)
	}
	return strings.Join(s, " ")
}
