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
	vsProot  bool    // proot_time / remainroot_time >= limit; else remainroot / native <= limit
	limit    float64 // ratio
}

var targets = []target{
	{"forkexec", false, 1.30},
	{"find", false, 1.03},
	{"getid", true, 2.5},
	{"seteuid", true, 2.5},
	{"build", false, 1.03},
}

const rssLimitKiB = 20 * 1024

var peerShort = map[string]string{rNative: "native", rProot: "pr", rFakeroot: "fr"}

// base picks the reference of a row's ratios: native when it works, else
// the faster of fakeroot and proot that works ("" if none does).
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
	return best
}

func info(name string) workloadInfo {
	for _, w := range workloadTable {
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

	section(fmt.Sprintf("remainroot bench: wall-clock seconds, median of %d run(s)", res.Runs))
	secs := func(c *Cell) string {
		switch {
		case c.OK:
			return fmt.Sprintf("%.3f", c.Median)
		case c.NotRun != "":
			return "n/a"
		}
		return "fails"
	}
	rows := [][]string{{"workload", "native s", "remainroot s", "rr/native", "proot -0 s", "proot/native",
		"fakeroot s", "fakeroot/native", "rr vs proot", "rr vs fakeroot", "rr stops"}}
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
		faster := func(peer string) string {
			rr, p := wr.Cells[rRemainroot], wr.Cells[peer]
			if !rr.OK || !p.OK || rr.Median == 0 {
				return "-"
			}
			return fmt.Sprintf("%.2fx", p.Median/rr.Median)
		}
		stops := "-"
		if c := wr.Cells[rRemainroot]; len(c.Stops) > 0 {
			stops = fmt.Sprint(medianInt(c.Stops))
		}
		rows = append(rows, []string{
			"(" + wi.roman + ") " + wi.name,
			secs(wr.Cells[rNative]),
			secs(wr.Cells[rRemainroot]), ratio(rRemainroot),
			secs(wr.Cells[rProot]), ratio(rProot),
			secs(wr.Cells[rFakeroot]), ratio(rFakeroot),
			faster(rProot), faster(rFakeroot), stops,
		})
	}
	table(w, rows, md)
	if usedBase[rFakeroot] {
		legend = append(legend, "[fr]: native fails on this row, so its ratios are to fakeroot instead")
	}
	if usedBase[rProot] {
		legend = append(legend, "[pr]: native fails on this row, so its ratios are to proot -0 instead")
	}
	legend = append(legend,
		"rr vs PEER = PEER seconds / remainroot seconds: how many times faster remainroot is (below 1.00x: slower)",
		"rr stops = ptrace stops the tracer handled (median, from --stats)")
	fmt.Fprintln(w)
	for _, l := range legend {
		item("%s", l)
	}

	section("Workloads")
	for _, wr := range res.Workloads {
		wi := info(wr.Name)
		label := wi.label
		if wr.Name == "find" {
			label = strings.Replace(label, "ROOTS", strings.Join(findRoots(res.FindRoots), " "), 1) +
				fmt.Sprintf(", %d entries; output to a file, its lines counted and parsed", res.FindEntries)
		}
		item("(%s) %s: %s", wi.roman, wi.name, label)
	}
	item("every run's exit status and output are checked; a failing run is never timed")
	item("each workload starts with one untimed native warm-up run; runners then alternate within each round")

	failed := false
	for _, wr := range res.Workloads {
		for _, r := range runnerNames {
			c := wr.Cells[r]
			if c.OK || c.NotRun == leftOut {
				continue
			}
			if !failed {
				section("Failures and runs not made")
				failed = true
			}
			msg := c.Err
			if c.NotRun != "" {
				msg = "not run: " + c.NotRun
			}
			item("(%s) %s under %s: %s", info(wr.Name).roman, wr.Name, r, msg)
		}
	}

	section("Targets")
	var maxRSS int64 = -1
	rssRuns := 0
	for _, wr := range res.Workloads {
		for _, v := range wr.Cells[rRemainroot].RSSKiB {
			rssRuns++
			if v > maxRSS {
				maxRSS = v
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
		if wr == nil {
			item("%-14s not run (-only)", name)
			continue
		}
		rr := wr.Cells[rRemainroot]
		if rr.NotRun != "" {
			item("%-14s %-28s unknown (remainroot not run: %s)", name, goalText(t), rr.NotRun)
			continue
		}
		if t.vsProot {
			goal := goalText(t)
			p := wr.Cells[rProot]
			switch {
			case !rr.OK:
				item("%-14s %-28s MISS (remainroot %s)", name, goal, secs(rr))
			case !p.OK:
				item("%-14s %-28s unknown (proot -0 %s)", name, goal, secs(p))
			default:
				v := p.Median / rr.Median
				item("%-14s %-28s %6.2fx  %s", name, goal, v, passMiss(v >= t.limit))
			}
			continue
		}
		b := base(wr)
		goal := goalText(t)
		switch {
		case !rr.OK:
			item("%-14s %-28s MISS (remainroot %s)", name, goal, secs(rr))
		case b == "":
			item("%-14s %-28s unknown (no working reference)", name, goal)
		default:
			v := rr.Median / wr.Cells[b].Median
			extra := ""
			if b != rNative {
				extra = " (native fails: ratio to " + b + ")"
			}
			item("%-14s %-28s %6.2fx  %s%s", name, goal, v, passMiss(v <= t.limit), extra)
		}
	}
	goal := fmt.Sprintf("tracer peak RSS < %d MiB", rssLimitKiB/1024)
	switch {
	case maxRSS >= 0:
		item("%-14s %-28s %5.1f MiB  %s (max over %d remainroot runs)", "tracer RSS", goal,
			float64(maxRSS)/1024, passMiss(maxRSS < rssLimitKiB), rssRuns)
	case !res.StatsSupported:
		item("%-14s %-28s unknown: remainroot run --stats not working (see notes)", "tracer RSS", goal)
	default:
		item("%-14s %-28s unknown: no stats from any successful run", "tracer RSS", goal)
	}

	section("Individual runs (s)")
	for _, wr := range res.Workloads {
		var parts []string
		for _, r := range runnerNames {
			c := wr.Cells[r]
			if !c.OK {
				parts = append(parts, r+" "+secs(c))
				continue
			}
			var ts []string
			for _, t := range c.Times {
				ts = append(ts, fmt.Sprintf("%.3f", t))
			}
			parts = append(parts, r+" "+strings.Join(ts, " "))
		}
		item("(%s) %s: %s", info(wr.Name).roman, wr.Name, strings.Join(parts, "; "))
	}

	if l, err := strconv.ParseFloat(machine["load"], 64); err == nil {
		if n, err := strconv.Atoi(machine["nproc"]); err == nil && l > 0.5*float64(n) {
			res.Notes = append(res.Notes, fmt.Sprintf("the machine was busy when the bench started (load %.2f on %d CPUs): timings are noisy; compare the individual runs", l, n))
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
	item("proot %s, fakeroot %s, gcc %s, bench built with %s", machine["proot"], machine["fakeroot"], machine["gcc"], machine["go"])
	mode := "default mode"
	if res.RemainrootMode != "" {
		mode = "--mode " + res.RemainrootMode
	}
	item("remainroot %s (%s); measured as %s; inside: uid %d, uid_map %q, gid_map %q",
		o.bin, mode, who, res.UID, res.UIDMap, res.GIDMap)
	item("measurement %.0f s, total bench %.0f s; 1-min load average %s before, %s after (other load skews timings)",
		res.ElapsedS, elapsed.Seconds(), machine["load"], loadavg())
}

func goalText(t target) string {
	if t.vsProot {
		return fmt.Sprintf("proot/remainroot >= %.1fx", t.limit)
	}
	return fmt.Sprintf("remainroot/native <= %.2f", t.limit)
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
