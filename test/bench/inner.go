package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// workloadInfo describes one row of the table.
type workloadInfo struct {
	name  string
	roman string
	label string
	// full: also measured under remainroot --mode full (the workloads
	// whose cost or result depends on file ownership).
	full bool
}

var workloadTable = []workloadInfo{
	{"forkexec", "i", "1000 x fork+exec /bin/true (C loop, waits each)", false},
	{"find", "ii", "find ROOTS -printf '%u %g %p\\n' (owner names per file)", true},
	{"getid", "iii", "seteuid(42), then 20k x getuid()+getresuid()", false},
	{"seteuid", "iv", "10k x seteuid(42)+seteuid(0), each checked", false},
	{"build", "v", "gcc -O2 build of a generated 40-file C project, make -j2, link", false},
	{"dpkg", "vi", "dpkg --install of DEBS into an empty root (root-owned files only)", true},
	{"dpkg-owners", "vii", "dpkg --install of DEBS into an empty root (files owned by other ids than root)", true},
}

// The runners, in column order.
const (
	rNative     = "native"
	rRemainroot = "remainroot"
	rFull       = "remainroot-full"
	rProot      = "proot"
	rFakeroot   = "fakeroot"
)

var runnerNames = []string{rNative, rRemainroot, rFull, rProot, rFakeroot}

// runnerAliases are other names -runners accepts.
var runnerAliases = map[string]string{"full": rFull, "creds": rRemainroot, "rr": rRemainroot}

// isRemainroot says whether runner is remainroot in some mode.
func isRemainroot(runner string) bool { return runner == rRemainroot || runner == rFull }

// leftOut is Cell.NotRun for a runner not selected by -runners;
// notMeasured for remainroot full on the workloads where ownership plays no
// part.
const (
	leftOut     = "left out by -runners"
	notMeasured = "mode full measured only on (ii), (vi) and (vii)"
)

// Cell is one workload under one runner.
type Cell struct {
	Times  []float64 `json:"times_s"`
	Median float64   `json:"median_s"`
	OK     bool      `json:"ok"`
	// Err says why the runner failed on this workload (its exit status or
	// wrong output); NotRun why it was not attempted.
	Err       string  `json:"error,omitempty"`
	NotRun    string  `json:"not_run,omitempty"`
	RSSKiB    []int64 `json:"tracer_max_rss_kib,omitempty"`
	Stops     []int64 `json:"stops,omitempty"`
	StatsNote string  `json:"stats_note,omitempty"`
	// Check says what the output check of the last run verified, when it
	// says more than "output as expected".
	Check string `json:"check,omitempty"`
}

// WLResult is one workload's row.
type WLResult struct {
	Name  string           `json:"name"`
	Cells map[string]*Cell `json:"cells"`
	// LoadAfter is the 1-minute load average when the workload finished:
	// the machine is shared, and other work skews the timings.
	LoadAfter string `json:"load_after,omitempty"`
}

// Results is what the inner process reports.
type Results struct {
	Runs           int         `json:"runs"`
	UID            int         `json:"uid_inside"`
	UIDMap         string      `json:"uid_map"`
	GIDMap         string      `json:"gid_map"`
	FindRoots      string      `json:"find_roots"`
	FindEntries    int         `json:"find_entries"`
	RemainrootMode string      `json:"remainroot_mode,omitempty"`
	CPUs           string      `json:"cpus,omitempty"`
	StatsSupported bool        `json:"stats_supported"`
	Notes          []string    `json:"notes,omitempty"`
	Workloads      []*WLResult `json:"workloads"`
	// DebFiles and DebEntries: the packages of (vi) and (vii) and the
	// paths they install.
	DebFiles   map[string][]string `json:"deb_files,omitempty"`
	DebEntries map[string]int      `json:"deb_entries,omitempty"`
	DebNonRoot map[string]int      `json:"deb_non_root_owned,omitempty"`
	ElapsedS   float64             `json:"elapsed_s"`
	// Images: the image workloads, measured by the outer process.
	Images []*ImageResult `json:"images,omitempty"`
}

// inner holds the state of the measuring process.
type inner struct {
	o       options
	dir     string // work directory (read-only here, except run/)
	runDir  string
	env     []string
	res     *Results
	rrBin   string
	rrBad   string // why remainroot is not run at all
	fullBad string // why remainroot --mode full is not run at all
	rrStats bool   // pass --stats
	seq     int
	debs    map[string]*debSet // (vi) and (vii)
}

func runInner(o options) error {
	start := time.Now()
	if o.dir == "" {
		return errors.New("-inner needs -dir")
	}
	in := &inner{
		o:      o,
		dir:    o.dir,
		runDir: filepath.Join(o.dir, "run"),
		rrBin:  filepath.Join(o.dir, "bin", "remainroot"),
		res:    &Results{Runs: o.runs, FindRoots: o.findRoots, RemainrootMode: o.mode, CPUs: o.cpus},
		debs:   map[string]*debSet{},
	}
	in.env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + filepath.Join(in.runDir, "home"),
		"TMPDIR=" + filepath.Join(in.runDir, "tmp"),
		"LC_ALL=C",
	}
	in.res.UID = os.Getuid()
	in.res.UIDMap = readTrim("/proc/self/uid_map")
	in.res.GIDMap = readTrim("/proc/self/gid_map")

	// Become a child subreaper: whatever a workload leaves behind is
	// reparented here, and killed and reaped after each run.
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, 36 /* PR_SET_CHILD_SUBREAPER */, 1, 0); e != 0 {
		in.note("PR_SET_CHILD_SUBREAPER: %v (stray processes may survive)", e)
	}

	// Die with the outer process, and take the current run down with us.
	syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		<-sigs
		if pid := currentRun.Load(); pid > 0 {
			syscall.Kill(-int(pid), syscall.SIGKILL)
		}
		killStrays()
		os.Exit(1)
	}()
	if os.Getppid() == 1 {
		return errors.New("outer bench process is gone")
	}

	sel, _ := selectWorkloads(o.only)
	if sel["find"] {
		n, err := countEntries(findRoots(o.findRoots))
		if err != nil {
			return fmt.Errorf("-find-roots %s: %v", o.findRoots, err)
		}
		in.res.FindEntries = n
	}
	for _, name := range []string{"dpkg", "dpkg-owners"} {
		if !sel[name] {
			continue
		}
		ds := loadDebSet(filepath.Join(in.dir, "debs", name))
		in.debs[name] = ds
		if ds.notReady != "" {
			in.note("(%s) %s not measured: %s", info(name).roman, name, ds.notReady)
			continue
		}
		if in.res.DebFiles == nil {
			in.res.DebFiles, in.res.DebEntries, in.res.DebNonRoot = map[string][]string{}, map[string]int{}, map[string]int{}
		}
		for _, f := range ds.files {
			in.res.DebFiles[name] = append(in.res.DebFiles[name], filepath.Base(f))
		}
		in.res.DebEntries[name] = len(ds.entries)
		in.res.DebNonRoot[name] = ds.nonRoot
	}
	if rsel, _ := selectRunners(o.runners); rsel[rRemainroot] || rsel[rFull] {
		in.checkRemainroot(rsel[rFull])
	}

	for _, w := range workloadTable {
		if !sel[w.name] {
			continue
		}
		wr := in.measure(w)
		wr.LoadAfter = loadavg()
		in.res.Workloads = append(in.res.Workloads, wr)
	}
	in.res.ElapsedS = time.Since(start).Seconds()
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(in.res)
}

func (in *inner) note(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	in.res.Notes = append(in.res.Notes, msg)
	progress("note: %s", msg)
}

func progress(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

// findRoots splits the -find-roots list.
func findRoots(list string) []string {
	var r []string
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f != "" {
			r = append(r, f)
		}
	}
	return r
}

// countEntries counts what find prints for roots: each root itself and
// every entry below it.
func countEntries(roots []string) (int, error) {
	n := 0
	for _, root := range roots {
		err := filepath.WalkDir(root, func(_ string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}

// checkRemainroot runs `remainroot run -- /bin/echo ok` once, with and without
// --stats, to decide whether the remainroot column can be measured, and, if
// full, the same with --mode full for the remainroot-full column.
func (in *inner) checkRemainroot(full bool) {
	if _, err := os.Stat(in.rrBin); err != nil {
		in.rrBad = "no remainroot binary (" + in.o.bin + ")"
		in.fullBad = in.rrBad
		in.note("%s: remainroot columns not measured", in.rrBad)
		return
	}
	echo := func(runner string) runResult {
		stats := filepath.Join(in.runDir, "stats-check.json")
		os.Remove(stats)
		r := in.execRun(in.wrap(runner, []string{"/bin/echo", "ok"}, stats), 30*time.Second)
		if r.err == nil && string(r.stdout) != "ok\n" {
			r.err = fmt.Errorf("printed %q, want %q", clip(string(r.stdout), 80), "ok\n")
		}
		if r.err == nil && in.rrStats {
			if _, err := os.Stat(stats); err != nil {
				r.err = errors.New("no stats file")
			}
		}
		return r
	}
	in.rrStats = true
	r := echo(rRemainroot)
	if r.err != nil {
		in.rrStats = false
		r2 := echo(rRemainroot)
		if r2.err == nil {
			in.note("remainroot run --stats fails (%s) but works without it: --stats not implemented? measuring without it; tracer RSS and stops unknown", r.err)
		} else {
			in.rrBad = "remainroot run -- /bin/echo ok fails: " + r2.err.Error()
			in.note("%s: remainroot column not measured", in.rrBad)
		}
	}
	in.res.StatsSupported = in.rrStats
	if full {
		if r := echo(rFull); r.err != nil {
			in.fullBad = "remainroot run --mode full -- /bin/echo ok fails: " + r.err.Error()
			in.note("%s: remainroot-full column not measured", in.fullBad)
		}
	}
}

// wrap builds the command line of argv under runner.
func (in *inner) wrap(runner string, argv []string, statsPath string) []string {
	switch runner {
	case rRemainroot, rFull:
		c := []string{in.rrBin, "run"}
		if runner == rFull {
			c = append(c, "--mode", "full")
		} else if in.o.mode != "" {
			c = append(c, "--mode", in.o.mode)
		}
		if in.rrStats && statsPath != "" {
			c = append(c, "--stats", statsPath)
		}
		return append(append(c, "--"), argv...)
	case rProot:
		return append([]string{"proot", "-0"}, argv...)
	case rFakeroot:
		return append([]string{"fakeroot", "--"}, argv...)
	}
	return argv
}

// job is one execution of a workload: its command, how to check what it
// printed, and what to remove afterwards.
type job struct {
	argv    []string
	check   func(stdout []byte) error
	cleanup func()
	// checked, if set, says what the check verified (for Cell.Check).
	checked *string
	// errDetail, if set, picks from the run's stderr what explains a
	// failure (default: its last line).
	errDetail func(stderr []byte) string
}

func expectOutput(want string) func([]byte) error {
	return func(out []byte) error {
		if string(out) != want {
			return fmt.Errorf("printed %q, want %q", clip(string(out), 80), want)
		}
		return nil
	}
}

// newJob prepares one execution of workload name under runner.
func (in *inner) newJob(name, runner string) (job, error) {
	bin := func(n string) string { return filepath.Join(in.dir, "bin", n) }
	switch name {
	case "forkexec":
		return job{argv: []string{bin("forkexec"), "1000"}, check: expectOutput("ok 1000\n")}, nil
	case "find":
		// The trees may change while the bench runs (packages installed by
		// others): count them before and after, and accept either count.
		roots := findRoots(in.o.findRoots)
		before, err := countEntries(roots)
		if err != nil {
			return job{}, err
		}
		argv := append(append([]string{"find"}, roots...), "-printf", "%u %g %p\n")
		return job{
			argv: argv,
			check: func(out []byte) error {
				after, err := countEntries(roots)
				if err != nil {
					return err
				}
				lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
				if n := len(lines); n < min(before, after) || n > max(before, after) {
					return fmt.Errorf("printed %d lines, want %d (entries in %s)", n, after, strings.Join(roots, " "))
				}
				for _, l := range lines {
					f := strings.SplitN(l, " ", 3)
					ok := len(f) == 3 && f[0] != "" && f[1] != ""
					if ok {
						ok = false
						for _, r := range roots {
							ok = ok || strings.HasPrefix(f[2], r)
						}
					}
					if !ok {
						return fmt.Errorf("line %q is not \"USER GROUP PATH\"", clip(l, 80))
					}
				}
				return nil
			},
		}, nil
	case "getid":
		return job{argv: []string{bin("getid"), "20000"}, check: expectOutput("ok 20000\n")}, nil
	case "seteuid":
		return job{argv: []string{bin("seteuid"), "10000"}, check: expectOutput("ok 10000\n")}, nil
	case "build":
		in.seq++
		out := filepath.Join(in.runDir, fmt.Sprintf("build-%d", in.seq))
		if err := os.Mkdir(out, 0o755); err != nil {
			return job{}, err
		}
		src := filepath.Join(in.dir, "src")
		want := projChecksum()
		return job{
			argv: []string{"make", "-s", "-j2", "-f", filepath.Join(src, "Makefile"), "SRC=" + src, "OUT=" + out},
			check: func([]byte) error {
				// Run what was built, natively, untimed.
				got, err := exec.Command(filepath.Join(out, "prog")).Output()
				if err != nil {
					return fmt.Errorf("built program: %v", err)
				}
				if string(got) != want {
					return fmt.Errorf("built program printed %q, want %q", clip(string(got), 80), want)
				}
				return nil
			},
			cleanup: func() { os.RemoveAll(out) },
		}, nil
	case "dpkg", "dpkg-owners":
		// A fresh, empty root for every run, created untimed and removed
		// afterwards.
		ds := in.debs[name]
		in.seq++
		root := filepath.Join(in.runDir, fmt.Sprintf("%s-%d", name, in.seq))
		if err := newDpkgRoot(root); err != nil {
			os.RemoveAll(root)
			return job{}, err
		}
		// Write back what earlier runs left dirty (their files, their
		// removal), so that no run pays for another's.
		syscall.Sync()
		checked := new(string)
		return job{
			argv: append(dpkgArgs(root), ds.files...),
			check: func([]byte) error {
				msg, err := in.checkDpkg(ds, root, runner)
				*checked = msg
				return err
			},
			checked:   checked,
			errDetail: dpkgError,
			cleanup:   func() { os.RemoveAll(root) },
		}, nil
	}
	return job{}, fmt.Errorf("unknown workload %q", name)
}

// measure runs one workload: an untimed native warm-up (which also decides
// whether native works), then o.runs rounds of every runner in turn. A
// runner that fails once is not run again and its cell says why.
func (in *inner) measure(w workloadInfo) *WLResult {
	wr := &WLResult{Name: w.name, Cells: map[string]*Cell{}}
	for _, r := range runnerNames {
		wr.Cells[r] = &Cell{OK: true}
	}
	if in.rrBad != "" {
		wr.Cells[rRemainroot] = &Cell{NotRun: in.rrBad}
	}
	switch {
	case !w.full:
		wr.Cells[rFull] = &Cell{NotRun: notMeasured}
	case in.fullBad != "":
		wr.Cells[rFull] = &Cell{NotRun: in.fullBad}
	}
	sel, _ := selectRunners(in.o.runners)
	for _, r := range runnerNames {
		if !sel[r] {
			wr.Cells[r] = &Cell{NotRun: leftOut}
		}
	}
	if ds := in.debs[w.name]; ds != nil && ds.notReady != "" {
		for _, r := range runnerNames {
			if wr.Cells[r].NotRun == "" {
				wr.Cells[r] = &Cell{NotRun: ds.notReady}
			}
		}
		return wr
	}

	// The warm-up is also native's check, so it runs even when native is
	// left out of the table.
	progress("(%s) %s: native warm-up", w.roman, w.name)
	if _, _, err := in.once(w.name, rNative, ""); err != nil && wr.Cells[rNative].NotRun == "" {
		c := wr.Cells[rNative]
		c.OK, c.Err = false, err.Error()
		progress("(%s) %s: native fails: %v", w.roman, w.name, err)
	}

	for i := 1; i <= in.o.runs; i++ {
		for _, r := range runnerNames {
			c := wr.Cells[r]
			if !c.OK {
				continue
			}
			stats := ""
			if isRemainroot(r) {
				stats = filepath.Join(in.runDir, fmt.Sprintf("stats-%s-%s-%d.json", w.name, r, i))
			}
			d, checked, err := in.once(w.name, r, stats)
			if err != nil {
				c.OK = false
				c.Err = err.Error()
				if in.o.runs > 1 {
					c.Err = fmt.Sprintf("run %d/%d: %s", i, in.o.runs, c.Err)
				}
				progress("(%s) %s: %s fails: %s", w.roman, w.name, r, c.Err)
				continue
			}
			c.Times = append(c.Times, d)
			c.Check = checked
			if stats != "" {
				in.readStats(c, stats)
			}
			progress("(%s) %s: %-15s run %d/%d: %.3f s", w.roman, w.name, r, i, in.o.runs, d)
		}
	}
	for _, c := range wr.Cells {
		if c.OK && c.NotRun == "" {
			c.Median = median(c.Times)
		} else {
			c.Times = nil
			c.OK = false
		}
	}
	return wr
}

// once executes workload name under runner and checks its exit status and
// output; it returns the wall-clock seconds of a successful run and what
// the check verified, if it says.
func (in *inner) once(name, runner, stats string) (float64, string, error) {
	j, err := in.newJob(name, runner)
	if err != nil {
		return 0, "", err
	}
	if j.cleanup != nil {
		defer j.cleanup()
	}
	if stats != "" {
		os.Remove(stats)
	}
	r := in.execRun(in.wrap(runner, j.argv, stats), in.o.timeout)
	if r.err != nil {
		if j.errDetail != nil && r.exited {
			if d := j.errDetail(r.stderr); d != "" {
				return 0, "", fmt.Errorf("%s: %s", r.status, d)
			}
		}
		return 0, "", r.err
	}
	if err := j.check(r.stdout); err != nil {
		return 0, "", err
	}
	checked := ""
	if j.checked != nil {
		checked = *j.checked
	}
	return r.seconds, checked, nil
}

// currentRun is the pid (and process group) of the run in progress, or 0.
var currentRun atomic.Int64

type runResult struct {
	seconds float64
	stdout  []byte
	stderr  []byte
	err     error
	// exited: the command ran and exited with a failure status (in
	// status), as opposed to a timeout or a failure to start it.
	exited bool
	status string
}

// execRun runs argv in its own process group with stdout and stderr in
// files, and times it from start to exit. Whatever the run leaves behind
// is killed and reaped.
func (in *inner) execRun(argv []string, timeout time.Duration) runResult {
	in.seq++
	outPath := filepath.Join(in.runDir, fmt.Sprintf("out-%d", in.seq))
	errPath := outPath + ".err"
	defer os.Remove(outPath)
	defer os.Remove(errPath)
	outF, err := os.Create(outPath)
	if err != nil {
		return runResult{err: err}
	}
	defer outF.Close()
	errF, err := os.Create(errPath)
	if err != nil {
		return runResult{err: err}
	}
	defer errF.Close()

	// Through launch (see workloads/launch.c), so that the peak RSS a
	// command reports is its own, not this process's; with -cpus, taskset
	// sets the affinity and execs launch, whose children inherit it.
	argv = append([]string{filepath.Join(in.dir, "bin", "launch")}, argv...)
	if in.o.cpus != "" {
		argv = append([]string{"taskset", "-c", in.o.cpus}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = in.runDir
	cmd.Env = in.env
	cmd.Stdout = outF
	cmd.Stderr = errF
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return runResult{err: err}
	}
	pid := cmd.Process.Pid
	currentRun.Store(int64(pid))
	defer currentRun.Store(0)
	var timedOut atomic.Bool
	timer := time.AfterFunc(timeout, func() {
		timedOut.Store(true)
		syscall.Kill(-pid, syscall.SIGKILL)
	})
	werr := cmd.Wait()
	elapsed := time.Since(start).Seconds()
	timer.Stop()
	syscall.Kill(-pid, syscall.SIGKILL)
	killStrays()

	stdout, _ := os.ReadFile(outPath)
	stderr, _ := os.ReadFile(errPath)
	if timedOut.Load() {
		return runResult{err: fmt.Errorf("timed out after %s", timeout)}
	}
	if werr != nil {
		msg := werr.Error()
		if last := lastLine(stderr); last != "" {
			msg += ": " + last
		}
		return runResult{err: errors.New(msg), stderr: stderr, exited: true, status: werr.Error()}
	}
	return runResult{seconds: elapsed, stdout: stdout, stderr: stderr}
}

// killStrays kills and reaps every child of this process (and the process
// group each run leads): with PR_SET_CHILD_SUBREAPER, that is whatever a
// finished run left running.
func killStrays() {
	self := strconv.Itoa(os.Getpid())
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 {
			f := strings.Fields(s[i+1:])
			if len(f) > 1 && f[1] == self {
				syscall.Kill(-pid, syscall.SIGKILL) // its group, if it leads one
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

// readStats adds what `remainroot run --stats` wrote to c.
func (in *inner) readStats(c *Cell, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		c.StatsNote = "no stats file"
		return
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.StatsNote = "stats file is not JSON: " + err.Error()
		return
	}
	num := func(k string) (int64, bool) {
		v, ok := m[k].(float64)
		return int64(v), ok
	}
	if v, ok := num("tracer_max_rss_kib"); ok {
		c.RSSKiB = append(c.RSSKiB, v)
	} else {
		c.StatsNote = "stats lack tracer_max_rss_kib"
	}
	if v, ok := num("stops"); ok {
		c.Stops = append(c.Stops, v)
	} else {
		c.StatsNote = "stats lack stops"
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return clip(strings.TrimSpace(lines[len(lines)-1]), 400)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
