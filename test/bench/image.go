package main

// Image workloads: what remainroot does to images, measured by the outer
// process with the test user's rootless podman (podman makes its own user
// namespace), not under the runners, against podman's own work on the
// same image in the same run.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// imageWorkloadTable are the rows of the image table, in order.
var imageWorkloadTable = []workloadInfo{
	{"fix-image", "viii", "remainroot fix-image --tag NAME:fixed NAME:built (the whole command: it reads the image from the storage, rewrites the build layers and loads what changed) of an image built with podman build --hooks-dir build-hooks-full.d (BUILD), against podman save --format oci-dir of NAME:built", false},
	{"image-owners", "ix", "podman run --rm --network=none IMAGE /bin/busybox echo first (its output checked) of images podman import-ed from a tar the bench writes (/bin/busybox, static, from the host, and 50,000 files of 16 bytes in 100 directories, every 100th, or every 10th, owned by 1000:1000): natively (no annotation), then with io.remainroot.mode=full after removing the user's cached owners of the image (cold), then again (warm); the log gives what reading the owners added to the start (the hook's wait to start the read, which then runs while the container starts, plus the first wait of a call that needs the owners) and the read's own time; and imagestore's Store.Owners on the same store in the bench's process, without a cache and from one (wall and CPU time)", false},
}

// fixImageBase is the base image of the fix-image workload, in the test
// user's storage (make test-env builds it).
const fixImageBase = "localhost/rr-debian:bookworm"

// fixImageContainerfile gives the build layer files owned by others than
// root, as a mode full build records them: a user's home, a tree of a few
// thousand files chowned to it, and a directory owned by unmapped ids.
// Offline.
const fixImageContainerfile = "FROM " + fixImageBase + `
RUN useradd -m app && mkdir /srv/app && cp -a /usr/share/doc /usr/share/zoneinfo /srv/app/ && chown -R app:app /srv/app && chown 1234:5678 /opt
`

// fixImageTarget: the whole remainroot fix-image costs less than podman
// save --format oci-dir of the same image.
const fixImageTarget = 1.0

// ImageResult is one image workload's row.
type ImageResult struct {
	Name string `json:"name"`
	// Save: podman save --format oci-dir of the built image, each run
	// (podman 4 gzips each layer for an oci-dir); SaveUncompressed: the
	// same with --uncompressed, for reference.
	Save             []float64 `json:"podman_save_s"`
	SaveUncompressed []float64 `json:"podman_save_uncompressed_s"`
	// FixImage: remainroot fix-image, wall clock; FixSave, Fix, FixLoad:
	// its phases as its log reports them (no save when it read the image
	// from the storage, FromStorage).
	FixImage []float64 `json:"fix_image_s"`
	FixSave  []float64 `json:"fix_image_save_s"`
	Fix      []float64 `json:"fix_image_fix_s"`
	FixLoad  []float64 `json:"fix_image_load_s"`
	// FromStorage: every run of fix-image read the image from the storage
	// (its log's from=storage), not through podman save.
	FromStorage bool `json:"from_storage"`
	// BuildS: the untimed build, once; SavedMiB: the saved layout's size;
	// Layers and Rewritten: the image's layers and those fix-image
	// rewrote (checked: only build layers).
	BuildS    float64 `json:"build_s"`
	SavedMiB  float64 `json:"saved_mib"`
	Layers    int     `json:"layers"`
	Rewritten int     `json:"rewritten_layers"`
	Err       string  `json:"error,omitempty"`
	NotRun    string  `json:"not_run,omitempty"`
	LoadAfter string  `json:"load_after,omitempty"`
	// Owners: the images of the image-owners workload; Store: the
	// store's driver.
	Owners []*OwnersImage `json:"owners,omitempty"`
	Store  string         `json:"store,omitempty"`
}

// OK says whether every run worked.
func (r *ImageResult) OK() bool {
	return r.Err == "" && r.NotRun == "" && (len(r.Save) > 0 || len(r.Owners) > 0 && len(r.Owners[0].Native) > 0)
}

// podmanUser runs commands as the user whose rootless podman the image
// workloads use: the test user when the bench runs as root, else the
// calling user.
type podmanUser struct {
	prefix []string // setpriv to the test user, or nothing
	env    []string
	uid    int
	gid    int
}

// testPodmanUser is the test user (uid, gid) with the environment rootless
// podman needs: its home and its XDG_RUNTIME_DIR, which must exist (make
// test-env makes them).
func testPodmanUser(uid, gid int) (podmanUser, error) {
	u, err := user.Lookup(testUser)
	if err != nil {
		return podmanUser{}, err
	}
	runtimeDir := "/run/user/" + strconv.Itoa(uid)
	for _, d := range []string{u.HomeDir, runtimeDir} {
		if st, err := os.Stat(d); err != nil || !st.IsDir() || int(st.Sys().(*syscall.Stat_t).Uid) != uid {
			return podmanUser{}, fmt.Errorf("%s's rootless podman needs %s, a directory of its own (make test-env)", testUser, d)
		}
	}
	return podmanUser{
		prefix: []string{"setpriv", "--reuid=" + strconv.Itoa(uid), "--regid=" + strconv.Itoa(gid), "--clear-groups", "--inh-caps=-all"},
		env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
			"HOME=" + u.HomeDir, "USER=" + testUser, "LOGNAME=" + testUser, "XDG_RUNTIME_DIR=" + runtimeDir},
		uid: uid, gid: gid,
	}, nil
}

// callingPodmanUser is the calling user, with its own environment.
func callingPodmanUser() podmanUser {
	return podmanUser{env: os.Environ(), uid: os.Getuid(), gid: os.Getgid()}
}

// imageRun is one command's outcome.
type imageRun struct {
	stdout, stderr string
	seconds        float64
}

// run runs argv as u in its own process group, with TMPDIR tmp when
// set, and times it; a failure carries its last line of stderr.
func (u podmanUser) run(tmp string, timeout time.Duration, argv ...string) (imageRun, error) {
	argv = append(append([]string{}, u.prefix...), argv...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = "/"
	cmd.Env = u.env
	if tmp != "" {
		cmd.Env = append(append([]string{}, u.env...), "TMPDIR="+tmp)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return imageRun{}, err
	}
	timer := time.AfterFunc(timeout, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	err := cmd.Wait()
	r := imageRun{stdout: stdout.String(), stderr: stderr.String(), seconds: time.Since(start).Seconds()}
	if !timer.Stop() {
		return r, fmt.Errorf("%s: timed out after %s", argv[len(u.prefix)], timeout)
	}
	if err != nil {
		return r, fmt.Errorf("%s %s: %v: %s", argv[len(u.prefix)], argv[len(u.prefix)+1], err, lastLine(stderr.Bytes()))
	}
	return r, nil
}

// podman runs podman as u and returns its stdout.
func (u podmanUser) podman(timeout time.Duration, args ...string) (string, error) {
	r, err := u.run("", timeout, append([]string{"podman"}, args...)...)
	return r.stdout, err
}

// measureImages measures the selected image workloads; work is a
// directory the outer process made for them (removed with the bench's).
func measureImages(o options, sel map[string]bool, work, rrBin string, u podmanUser) []*ImageResult {
	var out []*ImageResult
	for _, w := range imageWorkloadTable {
		if !sel[w.name] {
			continue
		}
		var r *ImageResult
		switch w.name {
		case "fix-image":
			r = measureFixImage(o, filepath.Join(work, w.name), rrBin, u)
			r.LoadAfter = loadavg()
			out = append(out, r)
			// The same on a native overlay storage of the bench's own.
			dir := filepath.Join(work, w.name+"-overlay")
			keep, storage := existingRunState(u), filepath.Join(dir, "storage")
			ou, err := overlayUser(u, storage)
			if err != nil {
				r = &ImageResult{Name: w.name, Store: "overlay", Err: err.Error()}
				progress("(viii) fix-image on overlay fails: %v", err)
			} else {
				r = measureFixImage(o, dir, rrBin, ou)
			}
			removeOverlayStorage(overlayStorageUser(u, storage), storage, keep)
		case "image-owners":
			r = measureImageOwners(o, filepath.Join(work, w.name), rrBin, u)
		}
		r.LoadAfter = loadavg()
		out = append(out, r)
	}
	return out
}

// selectsRunnerWorkload says whether sel holds a workload of the runners
// (measured by the inner process).
func selectsRunnerWorkload(sel map[string]bool) bool {
	for _, w := range workloadTable {
		if sel[w.name] {
			return true
		}
	}
	return false
}

// notRunImages are the selected image workloads, none run because of why.
func notRunImages(sel map[string]bool, why string) []*ImageResult {
	var out []*ImageResult
	for _, w := range imageWorkloadTable {
		if sel[w.name] {
			out = append(out, &ImageResult{Name: w.name, NotRun: why})
		}
	}
	return out
}

// fixImagePhase is a phase's duration in fix-image's log (save=, fix=,
// load=).
var fixImagePhase = regexp.MustCompile(`\b(save|fix|load)=(\S+)`)

// measureFixImage builds the image once (untimed), then in each round
// times podman save --format oci-dir of it and remainroot fix-image of it
// (into NAME:fixed, removed untimed after each run).
func measureFixImage(o options, dir, rrBin string, u podmanUser) *ImageResult {
	res := &ImageResult{Name: "fix-image"}
	fail := func(format string, a ...any) *ImageResult {
		res.Err = fmt.Sprintf(format, a...)
		res.Save, res.SaveUncompressed, res.FixImage, res.FixSave, res.Fix, res.FixLoad = nil, nil, nil, nil, nil, nil
		progress("(viii) fix-image fails: %s", res.Err)
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
	if _, err := u.podman(time.Minute, "image", "exists", fixImageBase); err != nil {
		res.NotRun = fmt.Sprintf("no %s in the rootless storage of uid %d (make test-env builds it)", fixImageBase, u.uid)
		return res
	}
	if d, err := u.podman(time.Minute, "info", "--format", "{{.Store.GraphDriverName}}"); err == nil {
		res.Store = strings.TrimSpace(d)
	}

	// The build's files, readable by the user; its temporary directory
	// and the saved layouts, its own.
	hooks, ctx, tmp := filepath.Join(dir, "build-hooks-full.d"), filepath.Join(dir, "ctx"), filepath.Join(dir, "tmp")
	for _, d := range []string{hooks, ctx, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fail("%v", err)
		}
	}
	if err := os.Chown(tmp, u.uid, u.gid); err != nil {
		return fail("%v", err)
	}
	hookJSON, err := exec.Command(rrBin, "hooks-json", "--build", "--mode", "full", "--path", rrBin).Output()
	if err != nil {
		return fail("remainroot hooks-json --build --mode full: %v", err)
	}
	if err := os.WriteFile(filepath.Join(hooks, "remainroot-build.json"), hookJSON, 0o644); err != nil {
		return fail("%v", err)
	}
	if err := os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte(fixImageContainerfile), 0o644); err != nil {
		return fail("%v", err)
	}

	suffix := make([]byte, 4)
	rand.Read(suffix)
	name := "localhost/rr-bench-fiximage-" + hex.EncodeToString(suffix)
	built, fixed := name+":built", name+":fixed"
	defer u.podman(2*time.Minute, "rmi", "-f", fixed, built)

	progress("(viii) fix-image: podman build --hooks-dir build-hooks-full.d -t %s (untimed)", built)
	b, err := u.run(tmp, 20*time.Minute, "podman", "build", "--no-cache", "--layers=false", "--network=none", "--hooks-dir", hooks, "-t", built, ctx)
	if err != nil {
		return fail("%v", err)
	}
	res.BuildS = b.seconds
	builtLayers, err := imageLayers(u, built)
	if err != nil {
		return fail("%v", err)
	}
	res.Layers = len(builtLayers)

	save := func(i int, flags ...string) (float64, error) {
		out := filepath.Join(tmp, fmt.Sprintf("save-%d", i))
		defer os.RemoveAll(out)
		r, err := u.run(tmp, o.timeout, append(append([]string{"podman", "save"}, flags...), "--format", "oci-dir", "-o", out, built)...)
		if err != nil {
			return 0, err
		}
		if res.SavedMiB == 0 {
			res.SavedMiB = float64(treeSize(out)) / (1 << 20)
		}
		return r.seconds, nil
	}
	// Untimed warm-up: the layers in the page cache for every run alike.
	progress("(viii) fix-image: podman save warm-up")
	if _, err := save(0); err != nil {
		return fail("%v", err)
	}
	for i := 1; i <= o.runs; i++ {
		s, err := save(i)
		if err != nil {
			return fail("run %d/%d: %v", i, o.runs, err)
		}
		res.Save = append(res.Save, s)
		progress("(viii) fix-image: %-15s run %d/%d: %.3f s", "podman save", i, o.runs, s)
		su, err := save(-i, "--uncompressed")
		if err != nil {
			return fail("run %d/%d: %v", i, o.runs, err)
		}
		res.SaveUncompressed = append(res.SaveUncompressed, su)
		progress("(viii) fix-image: %-15s run %d/%d: %.3f s", "save --uncompr.", i, o.runs, su)

		r, err := u.run(tmp, o.timeout, rrBin, "fix-image", "--tag", fixed, built)
		if err != nil {
			return fail("run %d/%d: %v", i, o.runs, err)
		}
		res.FromStorage = strings.Contains(r.stderr, "from=storage") && (i == 1 || res.FromStorage)
		phases := map[string]float64{}
		for _, m := range fixImagePhase.FindAllStringSubmatch(r.stderr, -1) {
			if d, err := time.ParseDuration(m[2]); err == nil {
				phases[m[1]] = d.Seconds()
			}
		}
		if _, ok := phases["load"]; !ok {
			return fail("run %d/%d: fix-image loaded nothing (no build layer with owners to fix?): %s", i, o.runs, lastLine([]byte(r.stderr)))
		}
		fixedLayers, err := imageLayers(u, fixed)
		if err != nil {
			return fail("run %d/%d: %v", i, o.runs, err)
		}
		if res.Rewritten, err = rewrittenBuildLayers(builtLayers, fixedLayers); err != nil {
			return fail("run %d/%d: %v", i, o.runs, err)
		}
		res.FixImage = append(res.FixImage, r.seconds)
		res.FixSave = append(res.FixSave, phases["save"])
		res.Fix = append(res.Fix, phases["fix"])
		res.FixLoad = append(res.FixLoad, phases["load"])
		progress("(viii) fix-image: %-15s run %d/%d: %.3f s (save %.3f, fix %.3f, load %.3f; from the storage: %v)", "fix-image", i, o.runs,
			r.seconds, phases["save"], phases["fix"], phases["load"], strings.Contains(r.stderr, "from=storage"))
		if _, err := u.podman(2*time.Minute, "rmi", fixed); err != nil {
			return fail("run %d/%d: %v", i, o.runs, err)
		}
	}
	return res
}

// imageLayers are image's layer diff IDs, bottom first.
func imageLayers(u podmanUser, image string) ([]string, error) {
	out, err := u.podman(time.Minute, "image", "inspect", "--format", "{{json .RootFS.Layers}}", image)
	if err != nil {
		return nil, err
	}
	var layers []string
	if err := json.Unmarshal([]byte(out), &layers); err != nil || len(layers) == 0 {
		return nil, fmt.Errorf("podman image inspect %s: layers %q", image, strings.TrimSpace(out))
	}
	return layers, nil
}

// rewrittenBuildLayers counts the layers fix-image changed, and checks
// that the base image's (all but the top one here) are unchanged.
func rewrittenBuildLayers(built, fixed []string) (int, error) {
	if len(built) != len(fixed) {
		return 0, fmt.Errorf("the fixed image has %d layers, the built one %d", len(fixed), len(built))
	}
	n := 0
	for i := range built {
		if built[i] == fixed[i] {
			continue
		}
		if i < len(built)-1 {
			return 0, fmt.Errorf("fix-image rewrote base layer %d of %d", i+1, len(built))
		}
		n++
	}
	if n == 0 {
		return 0, errors.New("fix-image rewrote no layer")
	}
	return n, nil
}

// treeSize is the size of the regular files under dir.
func treeSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// imageRows is the image table: a header, then one row per workload.
func imageRows(images []*ImageResult) [][]string {
	rows := [][]string{{"workload", "podman save s", "save --uncompressed s", "fix-image s", "its save s", "its fix s", "its load s", "fix-image/save"}}
	for _, ir := range images {
		if ir.Name != "fix-image" {
			continue
		}
		row := []string{"(" + info(ir.Name).roman + ") " + fixImageName(ir)}
		if !ir.OK() {
			cell := "fails"
			if ir.NotRun != "" {
				cell = "n/a"
			}
			rows = append(rows, append(row, cell, cell, cell, "-", "-", "-", "-"))
			continue
		}
		save := median(ir.Save)
		rows = append(rows, append(row,
			fmt.Sprintf("%.3f", save), fmt.Sprintf("%.3f", median(ir.SaveUncompressed)), fmt.Sprintf("%.3f", median(ir.FixImage)),
			fmt.Sprintf("%.3f", median(ir.FixSave)), fmt.Sprintf("%.3f", median(ir.Fix)), fmt.Sprintf("%.3f", median(ir.FixLoad)),
			fmt.Sprintf("%.2fx", median(ir.FixImage)/save)))
	}
	return rows
}

// imageLabel describes an image workload's input.
func imageLabel(ir *ImageResult) string {
	label := info(ir.Name).label
	if ir.Name == "image-owners" {
		return ownersLabel(ir)
	}
	if ir.Name == "fix-image" {
		if ir.Store != "" {
			label = "on the " + ir.Store + " storage: " + label
		}
		build := "FROM " + fixImageBase + "; " + strings.TrimSpace(strings.SplitN(fixImageContainerfile, "\n", 2)[1])
		if ir.BuildS > 0 {
			build += fmt.Sprintf(", built in %.0f s", ir.BuildS)
		}
		label = strings.Replace(label, "BUILD", build, 1)
		if ir.Layers > 0 {
			label += fmt.Sprintf("; %d layers, %d rewritten (the base image's unchanged, checked each run)", ir.Layers, ir.Rewritten)
		}
		if ir.SavedMiB > 0 {
			label += fmt.Sprintf("; the saved layout (podman save, gzip) is %.1f MiB", ir.SavedMiB)
		}
		if ir.OK() {
			label += fmt.Sprintf("; fix-image read the image from the storage (no podman save) in every run: %v", ir.FromStorage)
		}
		label += "; one untimed podman save first; NAME:fixed removed after each run, untimed"
	}
	return label
}

// imageTargets prints the image workloads' targets, in the style of the
// runners' ones.
func imageTargets(item func(string, ...any), images []*ImageResult) {
	defer ownersTargets(item, images)
	goal := fmt.Sprintf("fix-image/podman save < %.2f", fixImageTarget)
	var fixes []*ImageResult
	for _, ir := range images {
		if ir.Name == "fix-image" {
			fixes = append(fixes, ir)
		}
	}
	if len(fixes) == 0 {
		item("%-16s %-26s not run (-only)", "("+info("fix-image").roman+") fix-image", goal)
	}
	for _, ir := range fixes {
		fixImageTarget1(item, goal, ir)
	}
}

// fixImageName is a fix-image result's name with its storage's driver.
func fixImageName(ir *ImageResult) string {
	if ir.Store == "" {
		return ir.Name
	}
	return ir.Name + " " + ir.Store
}

// fixImageTarget1 prints one storage's fix-image target.
func fixImageTarget1(item func(string, ...any), goal string, ir *ImageResult) {
	name := "(" + info("fix-image").roman + ") " + fixImageName(ir)
	switch {
	case ir.NotRun != "":
		item("%-16s %-26s unknown (not run: %s)", name, goal, ir.NotRun)
	case !ir.OK():
		item("%-16s %-26s MISS (fails: %s)", name, goal, ir.Err)
	default:
		v := median(ir.FixImage) / median(ir.Save)
		item("%-16s %-26s %6.2fx  %s (fix-image %.3f s: save %.3f, fix %.3f, load %.3f; podman save %.3f s, with --uncompressed %.3f s)", name, goal, v,
			passMiss(v < fixImageTarget), median(ir.FixImage), median(ir.FixSave), median(ir.Fix), median(ir.FixLoad), median(ir.Save), median(ir.SaveUncompressed))
	}
}

// secondsList prints times as the runs section does.
func secondsList(v []float64) string {
	s := make([]string, len(v))
	for i, t := range v {
		s[i] = fmt.Sprintf("%.3f", t)
	}
	return strings.Join(s, " ")
}
