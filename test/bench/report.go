package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// target is one of the project's performance goals.
type target struct {
	workload string
	runner   string  // rRemainroot or rFull
	vsProot  bool    // proot_time / runner_time >= limit; else runner / native <= limit
	limit    float64 // ratio
}

var targets = []target{
	// Issue 9: a process whose credentials never diverge runs unattached.
	{"forkexec", rRemainroot, false, 1.05},
	{"find", rRemainroot, false, 1.02},
	{"getid", rRemainroot, true, 2.5},
	{"seteuid", rRemainroot, true, 2.5},
	{"build", rRemainroot, false, 1.02},
	// Issue 4: mode full at least 3x faster than proot -0 where ownership
	// is read or written.
	{"find", rFull, true, 3.0},
	{"dpkg", rFull, true, 3.0},
}

const rssLimitKiB = 20 * 1024

var peerShort = map[string]string{rNative: "native", rProot: "pr", rFakeroot: "fr", rRemainroot: "rr"}

// short names of the runners in ratios and goals.
var runnerShort = map[string]string{rNative: "native", rRemainroot: "rr", rFull: "full", rProot: "proot", rFakeroot: "fakeroot"}

// base picks the reference of a row's ratios: native when it works, else
// the faster of fakeroot and proot that works, else remainroot in its
// default mode ("" if none does).
func base(wr *WLResult) string {
	if c := wr.Cells[rNative]; c.OK {
		return rNative
	}
	best := ""
	for _, r := range []string{rFakeroot, rProot} {
		if c := wr.Cells[r]; c.OK && (best == "" || c.Median < wr.Cells[best].Median) {
			best = r
		}
	}
	if best == "" && wr.Cells[rRemainroot].OK {
		best = rRemainroot
	}
	return best
}

func info(name string) workloadInfo {
	for _, w := range allWorkloads() {
		if w.name == name {
			return w
		}
	}
	return workloadInfo{name: name}
}

func report(w io.Writer, o options, res *Results, machine map[string]string, who string, elapsed time.Duration) {
	md := o.markdown
	section := func(title string) {
		if md {
			fmt.Fprintf(w, "\n### %s\n\n", title)
		} else {
			fmt.Fprintf(w, "\n%s\n%s\n", title, strings.Repeat("-", len(title)))
		}
	}
	item := func(format string, a ...any) {
		if md {
			fmt.Fprintf(w, "- "+format+"\n", a...)
		} else {
			fmt.Fprintf(w, "  "+format+"\n", a...)
		}
	}
	rrMode := "creds, the default"
	if res.RemainrootMode != "" {
		rrMode = res.RemainrootMode
	}

	if len(res.Workloads) > 0 {
		section(fmt.Sprintf("remainroot bench: wall-clock seconds, median of %d run(s)", res.Runs))
	}
	secs := func(c *Cell) string {
		switch {
		case c.OK:
			return fmt.Sprintf("%.3f", c.Median)
		case c.NotRun == notMeasured:
			return "-"
		case c.NotRun != "":
			return "n/a"
		}
		return "fails"
	}
	rows := [][]string{{"workload", "native s", "rr s", "rr/native", "rr full s", "full/native",
		"proot -0 s", "proot/native", "fakeroot s", "fakeroot/native",
		"rr vs proot", "full vs proot", "rr vs fakeroot", "full vs fakeroot", "rr stops", "full stops"}}
	var legend []string
	usedBase := map[string]bool{}
	for _, wr := range res.Workloads {
		wi := info(wr.Name)
		b := base(wr)
		ratio := func(r string) string {
			c := wr.Cells[r]
			if !c.OK || b == "" {
				return "-"
			}
			if r == b && b != rNative {
				return "(base)"
			}
			s := fmt.Sprintf("%.2fx", c.Median/wr.Cells[b].Median)
			if b != rNative {
				s += " [" + peerShort[b] + "]"
				usedBase[b] = true
			}
			return s
		}
		faster := func(rr, peer string) string {
			c, p := wr.Cells[rr], wr.Cells[peer]
			if !c.OK || !p.OK || c.Median == 0 {
				return "-"
			}
			return fmt.Sprintf("%.2fx", p.Median/c.Median)
		}
		stops := func(r string) string {
			if c := wr.Cells[r]; c.OK && len(c.Stops) > 0 {
				return fmt.Sprint(medianInt(c.Stops))
			}
			return "-"
		}
		rows = append(rows, []string{
			"(" + wi.roman + ") " + wi.name,
			secs(wr.Cells[rNative]),
			secs(wr.Cells[rRemainroot]), ratio(rRemainroot),
			secs(wr.Cells[rFull]), ratio(rFull),
			secs(wr.Cells[rProot]), ratio(rProot),
			secs(wr.Cells[rFakeroot]), ratio(rFakeroot),
			faster(rRemainroot, rProot), faster(rFull, rProot),
			faster(rRemainroot, rFakeroot), faster(rFull, rFakeroot),
			stops(rRemainroot), stops(rFull),
		})
	}
	legend = append(legend,
		fmt.Sprintf("rr = remainroot run (mode %s); rr full = remainroot run --mode full, measured only on (ii), (vi) and (vii) (\"-\" elsewhere)", rrMode))
	if usedBase[rFakeroot] {
		legend = append(legend, "[fr]: native fails on this row, so its ratios are to fakeroot instead")
	}
	if usedBase[rProot] {
		legend = append(legend, "[pr]: native fails on this row, so its ratios are to proot -0 instead")
	}
	if usedBase[rRemainroot] {
		legend = append(legend, "[rr]: native, proot -0 and fakeroot all fail on this row, so its ratios are to remainroot (mode "+rrMode+") instead")
	}
	legend = append(legend,
		"X vs PEER = PEER seconds / X seconds: how many times faster remainroot is (below 1.00x: slower)",
		"stops = ptrace stops the tracer handled (median, from --stats)")
	if len(res.Workloads) > 0 {
		table(w, rows, md)
		fmt.Fprintln(w)
		for _, l := range legend {
			item("%s", l)
		}
	}
	if len(res.Images) > 0 {
		section(fmt.Sprintf("Images: wall-clock seconds, median of %d run(s)", res.Runs))
		if rows := imageRows(res.Images); len(rows) > 1 {
			table(w, rows, md)
			fmt.Fprintln(w)
			item("podman save = podman save --format oci-dir of the built image (podman 4 gzips every layer of an oci-dir); save --uncompressed = the same with --uncompressed (no gzip), for reference; fix-image = remainroot fix-image, wall clock: it reads the image from the storage (or, when it cannot, saves it as podman save does), rewrites the build layers and loads what changed; its save, fix and load: the phases its log reports (no save from the storage)")
			item("fix-image/save = fix-image s / podman save s: what the whole fix costs against saving the image (target: below %.2f)", fixImageTarget)
		}
		if rows := ownersRows(res.Images); len(rows) > 1 {
			if len(imageRows(res.Images)) > 1 {
				fmt.Fprintln(w)
			}
			table(w, rows, md)
			fmt.Fprintln(w)
			item("image-owners: podman run of the image (start to the first command's output, and the container's removal) natively, and in mode full with the user's cached owners removed (cold) or kept (warm); +ms: full minus native (all of mode full's start, not only the owners); added ms: what reading the owners added to the start, from the log: the hook's wait to start the read (it runs on a goroutine of its own while the container starts) plus the first wait of a call that needed the owners; read ms: the read and resolving themselves, wall clock, from the log; Owners(): imagestore's Store.Owners in the bench's process, wall (CPU) ms, without a cache and from one (target: added, at most %.0f ms for %d files)", ownersTargetMS, imgOwnersFiles)
		}
		item("run by the outer process as %s with its rootless podman (which makes its own user namespace), not under the runners", who)
	}

	section("Workloads")
	for _, wr := range res.Workloads {
		wi := info(wr.Name)
		label := wi.label
		switch wr.Name {
		case "find":
			label = strings.Replace(label, "ROOTS", strings.Join(findRoots(res.FindRoots), " "), 1) +
				fmt.Sprintf(", %d entries; output to a file, its lines counted and parsed", res.FindEntries)
		case "dpkg", "dpkg-owners":
			debs := "the packages (not available)"
			if f := res.DebFiles[wr.Name]; len(f) > 0 {
				debs = strings.Join(f, " ")
			}
			label = strings.Replace(label, "DEBS", debs, 1) +
				fmt.Sprintf(": %d paths, %d of them (files and directories) not owned by root:root", res.DebEntries[wr.Name], res.DebNonRoot[wr.Name])
		}
		item("(%s) %s: %s", wi.roman, wi.name, label)
	}
	for _, ir := range res.Images {
		item("(%s) %s: %s", info(ir.Name).roman, ir.Name, imageLabel(ir))
	}
	if len(res.DebFiles) > 0 {
		item("(vi), (vii): `%s DIR/*.deb`, each run into a fresh empty DIR (with DIR/var/lib/dpkg/{status,available,info,updates,triggers}) made and removed untimed; "+
			"the packages have no maintainer scripts; all but %s are bookworm's, fetched once with apt-get download into %s; "+
			"checked afterwards: dpkg-query --root=DIR says ii for each, and every path of the packages is there with its type and mode, "+
			"and, under rr full, with its owner (find DIR -printf '%%y %%u:%%g %%m %%P' under remainroot run --mode full: "+
			"the owners live in xattrs only it reports; symlinks' owners are not kept past the tracer, not checked)",
			strings.Join(dpkgArgs("DIR"), " "),
			fmt.Sprintf("%s (generated by the bench: %d files and %d directories owned by %d different ids)",
				ownersDebName, len(ownersDirs)*ownersFilesPerDir, len(ownersDirs), len(ownersDirs)), debCacheDir)
	}
	if _, ok := res.DebFiles["dpkg-owners"]; ok {
		item("(vii): in a namespace that maps one id, chown to any other id is EINVAL: dpkg fails natively; proot -0 and fakeroot pass such a chown on to the kernel and forgive only EPERM, so they fail too")
	}
	if res.CPUs != "" {
		item("every command (runs, warm-ups, checks) pinned with taskset -c %s (-cpus)", res.CPUs)
	}
	if len(res.Workloads) > 0 {
		item("every run's exit status and output are checked; a failing run is never timed")
		item("each workload starts with one untimed native warm-up run; runners then alternate within each round")
	}

	failed := false
	failure := func(what, err, notRun string) {
		if !failed {
			section("Failures and runs not made")
			failed = true
		}
		if notRun != "" {
			err = "not run: " + notRun
		}
		item("%s: %s", what, err)
	}
	for _, wr := range res.Workloads {
		for _, r := range runnerNames {
			c := wr.Cells[r]
			if c.OK || c.NotRun == leftOut || c.NotRun == notMeasured {
				continue
			}
			failure(fmt.Sprintf("(%s) %s under %s", info(wr.Name).roman, wr.Name, r), c.Err, c.NotRun)
		}
	}
	for _, ir := range res.Images {
		if !ir.OK() {
			failure(fmt.Sprintf("(%s) %s", info(ir.Name).roman, ir.Name), ir.Err, ir.NotRun)
		}
	}

	checks := false
	for _, wr := range res.Workloads {
		for _, r := range runnerNames {
			if c := wr.Cells[r]; c.OK && c.Check != "" {
				if !checks {
					section("Checks of the installs (last run)")
					checks = true
				}
				item("(%s) %s under %s: %s", info(wr.Name).roman, wr.Name, r, c.Check)
			}
		}
	}

	section("Targets")
	var maxRSS int64 = -1
	rssRuns := 0
	for _, wr := range res.Workloads {
		for _, r := range []string{rRemainroot, rFull} {
			for _, v := range wr.Cells[r].RSSKiB {
				rssRuns++
				if v > maxRSS {
					maxRSS = v
				}
			}
		}
	}
	for _, t := range targets {
		var wr *WLResult
		for _, x := range res.Workloads {
			if x.Name == t.workload {
				wr = x
			}
		}
		wi := info(t.workload)
		name := fmt.Sprintf("(%s) %s", wi.roman, wi.name)
		goal := goalText(t)
		if wr == nil {
			item("%-16s %-26s not run (-only)", name, goal)
			continue
		}
		rr := wr.Cells[t.runner]
		if rr.NotRun != "" {
			item("%-16s %-26s unknown (%s not run: %s)", name, goal, t.runner, rr.NotRun)
			continue
		}
		if t.vsProot {
			p := wr.Cells[rProot]
			switch {
			case !rr.OK:
				item("%-16s %-26s MISS (%s %s)", name, goal, t.runner, secs(rr))
			case !p.OK:
				item("%-16s %-26s unknown (proot -0 %s)", name, goal, secs(p))
			default:
				v := p.Median / rr.Median
				item("%-16s %-26s %6.2fx  %s", name, goal, v, passMiss(v >= t.limit))
			}
			continue
		}
		b := base(wr)
		switch {
		case !rr.OK:
			item("%-16s %-26s MISS (%s %s)", name, goal, t.runner, secs(rr))
		case b == "" || b == t.runner:
			item("%-16s %-26s unknown (no working reference)", name, goal)
		default:
			v := rr.Median / wr.Cells[b].Median
			extra := ""
			if b != rNative {
				extra = " (native fails: ratio to " + b + ")"
			}
			item("%-16s %-26s %6.2fx  %s%s", name, goal, v, passMiss(v <= t.limit), extra)
		}
	}
	goal := fmt.Sprintf("tracer peak RSS < %d MiB", rssLimitKiB/1024)
	switch {
	case len(res.Workloads) == 0:
		item("%-16s %-26s not run (-only)", "tracer RSS", goal)
	case maxRSS >= 0:
		item("%-16s %-26s %5.1f MiB  %s (max over %d remainroot runs, both modes)", "tracer RSS", goal,
			float64(maxRSS)/1024, passMiss(maxRSS < rssLimitKiB), rssRuns)
	case !res.StatsSupported:
		item("%-16s %-26s unknown: remainroot run --stats not working (see notes)", "tracer RSS", goal)
	default:
		item("%-16s %-26s unknown: no stats from any successful run", "tracer RSS", goal)
	}

	imageTargets(item, res.Images)

	section("Individual runs (s)")
	for _, wr := range res.Workloads {
		var parts []string
		for _, r := range runnerNames {
			c := wr.Cells[r]
			if c.NotRun == notMeasured {
				continue
			}
			if !c.OK {
				parts = append(parts, r+" "+secs(c))
				continue
			}
			parts = append(parts, r+" "+secondsList(c.Times))
		}
		load := ""
		if wr.LoadAfter != "" {
			load = " (load " + wr.LoadAfter + " after)"
		}
		item("(%s) %s%s: %s", info(wr.Name).roman, wr.Name, load, strings.Join(parts, "; "))
	}
	for _, ir := range res.Images {
		if !ir.OK() {
			continue
		}
		if ir.Name == "image-owners" {
			ownersRuns(item, ir)
			continue
		}
		load := ""
		if ir.LoadAfter != "" {
			load = " (load " + ir.LoadAfter + " after)"
		}
		item("(%s) %s%s: podman save %s; podman save --uncompressed %s; fix-image %s (its fix %s, its load %s)", info(ir.Name).roman, fixImageName(ir), load,
			secondsList(ir.Save), secondsList(ir.SaveUncompressed), secondsList(ir.FixImage), secondsList(ir.Fix), secondsList(ir.FixLoad))
	}

	if n, err := strconv.Atoi(machine["nproc"]); err == nil {
		busy := func(s string) bool {
			l, err := strconv.ParseFloat(s, 64)
			return err == nil && l > 0.5*float64(n)
		}
		if busy(machine["load"]) {
			res.Notes = append(res.Notes, fmt.Sprintf("the machine was busy when the bench started (load %s on %d CPUs): timings are noisy; compare the individual runs", machine["load"], n))
		}
		var during []string
		for _, wr := range res.Workloads {
			if busy(wr.LoadAfter) {
				during = append(during, fmt.Sprintf("(%s) %s", info(wr.Name).roman, wr.LoadAfter))
			}
		}
		for _, ir := range res.Images {
			if busy(ir.LoadAfter) {
				during = append(during, fmt.Sprintf("(%s) %s", info(ir.Name).roman, ir.LoadAfter))
			}
		}
		if len(during) > 0 {
			res.Notes = append(res.Notes, fmt.Sprintf("the machine was busy during the bench (1-min load average after %s, on %d CPUs): those rows are noisy", strings.Join(during, ", "), n))
		}
	}
	if len(res.Notes) > 0 {
		section("Notes")
		for _, n := range res.Notes {
			item("%s", n)
		}
	}

	section("Machine")
	item("kernel %s; CPU %s; nproc %s; memory %s; %s", machine["kernel"], machine["cpu"], machine["nproc"], machine["memory"], machine["date"])
	item("proot %s, fakeroot %s, dpkg %s, gcc %s, bench built with %s", machine["proot"], machine["fakeroot"], machine["dpkg"], machine["gcc"], machine["go"])
	pinned := "not pinned to CPUs"
	if res.CPUs != "" {
		pinned = "pinned to CPUs " + res.CPUs
	}
	inside := "; no runners' workload measured (-only)"
	if len(res.Workloads) > 0 {
		inside = fmt.Sprintf("; inside: uid %d, uid_map %q, gid_map %q", res.UID, res.UIDMap, res.GIDMap)
	}
	item("remainroot %s (rr: mode %s; rr full: --mode full); measured as %s, %s%s",
		o.bin, rrMode, who, pinned, inside)
	item("measurement %.0f s, total bench %.0f s; 1-min load average %s before, %s after (other load skews timings)",
		res.ElapsedS, elapsed.Seconds(), machine["load"], loadavg())
}

func goalText(t target) string {
	r := runnerShort[t.runner]
	if t.vsProot {
		return fmt.Sprintf("proot/%s >= %.1fx", r, t.limit)
	}
	return fmt.Sprintf("%s/native <= %.2f", r, t.limit)
}

func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func medianInt(v []int64) int64 {
	f := make([]float64, len(v))
	for i, x := range v {
		f[i] = float64(x)
	}
	return int64(median(f))
}

// table prints rows (the first is the header) aligned, or as Markdown.
func table(w io.Writer, rows [][]string, md bool) {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			if n := utf8.RuneCountInString(c); n > width[i] {
				width[i] = n
			}
		}
	}
	pad := func(s string, i int) string {
		n := width[i] - utf8.RuneCountInString(s)
		if i == 0 {
			return s + strings.Repeat(" ", n)
		}
		return strings.Repeat(" ", n) + s
	}
	for ri, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = pad(c, i)
		}
		if md {
			fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
			if ri == 0 {
				seps := make([]string, len(r))
				for i := range r {
					seps[i] = strings.Repeat("-", width[i])
					if i > 0 {
						seps[i] = seps[i][:width[i]-1] + ":"
					}
				}
				fmt.Fprintf(w, "|%s|\n", " "+strings.Join(seps, " | ")+" ")
			}
			continue
		}
		fmt.Fprintln(w, strings.Join(cells, "  "))
		if ri == 0 {
			total := 0
			for _, x := range width {
				total += x + 2
			}
			fmt.Fprintln(w, strings.Repeat("-", total-2))
		}
	}
}
