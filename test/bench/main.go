// Command bench measures remainroot (mode creds, and mode full where file
// ownership matters) against running natively, proot -0 and fakeroot on
// seven workloads, and remainroot fix-image against podman save of the
// same image (workload viii), and checks the project's performance
// targets.
//
// It is run by `make bench` (go run ./test/bench) from the repository root,
// as root: it installs the tools it lacks, creates the unprivileged user
// remainroot-test (with no /etc/subuid or /etc/subgid range), builds the
// workloads with gcc into a temporary directory, downloads once the Debian
// packages that dpkg installs in (vi) and (vii) (apt-get download, into
// /var/cache/remainroot-bench/debs), and re-executes itself as that user
// inside one user namespace mapping a single id ("0 U 1"), where every
// workload runs under every runner. That inner process reports JSON
// results; the outer one prints the table and the targets.
//
// Not being root, it skips the user and runs the inner part under
// `unshare --user --map-root-user` as the calling user.
//
// The image workload (viii) runs in the outer process, with the rootless
// podman of the test user (of the calling user when not root): it builds
// an image FROM localhost/rr-debian:bookworm (make test-env makes it) with
// the mode full build hooks, then times podman save --format oci-dir of it
// and remainroot fix-image of it, whose phases (save when it cannot read
// the storage, fix, load) its log reports; the target is a whole fix-image
// cheaper than the podman save. The image
// workload (ix) imports images of 50,000 files (500, then 5,000, not
// root's) and starts containers of them natively and in mode full, with
// the user's cached image owners removed and kept; the target is the
// hook's reading of the owners (its log) at most 100 ms.
//
// Usage (from the repository root):
//
//	make bench
//	go run ./test/bench [-bin bin/remainroot] [-runs 3] [-only find,build]
//	    [-runners native,remainroot,full] [-mode creds] [-cpus 0] [-markdown] [-json FILE]
//
// Each run's exit status and output are checked; a failing run is reported
// as failing, never timed. remainroot is run with --stats FILE, from which
// the tracer's peak RSS and its number of ptrace stops are reported. The
// dpkg workloads check every path the packages install (type and mode, and
// under mode full the owner, listed by find under remainroot full).
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// defaultFindRoots is the input of workload (ii): about 55k entries of /usr
// that the test user can read in full (all of /usr cannot be: polkit's
// rules.d is private), small enough for proot -0 (about 1 ms per entry
// here) to finish three runs in a few minutes.
const defaultFindRoots = "/usr/share/man,/usr/include,/usr/local,/usr/share/doc"

// options are the flags, shared by the outer and the inner process.
type options struct {
	bin       string
	runs      int
	only      string
	runners   string
	markdown  bool
	mode      string
	findRoots string
	timeout   time.Duration
	cpus      string
	keep      bool
	jsonOut   string

	inner bool
	dir   string
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/remainroot", "remainroot binary to measure")
	flag.IntVar(&o.runs, "runs", 3, "timed runs per workload and runner; the median is reported")
	flag.StringVar(&o.only, "only", "", "run only these workloads (comma-separated: "+workloadNames()+", or i..ix)")
	flag.StringVar(&o.runners, "runners", strings.Join(runnerNames, ","), "measure only these runners (comma-separated; full = remainroot-full), e.g. native,remainroot to iterate fast")
	flag.BoolVar(&o.markdown, "markdown", false, "print the table as Markdown")
	flag.StringVar(&o.mode, "mode", "", "pass --mode MODE to remainroot run in the remainroot column (default: remainroot's default, creds); the remainroot-full column always runs --mode full")
	flag.StringVar(&o.findRoots, "find-roots", defaultFindRoots, "comma-separated trees walked by the stat-heavy workload (ii), the same for every runner")
	flag.DurationVar(&o.timeout, "timeout", 3*time.Minute, "kill a single run after this long")
	flag.StringVar(&o.cpus, "cpus", "", "run every command under taskset -c CPUS (e.g. 0): ptrace round trips cost much less when tracer and tracee share a CPU, so this shows the cost without the scheduler's placement (default: not pinned)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory")
	flag.StringVar(&o.jsonOut, "json", "", "also write the raw results as JSON to this file")
	flag.BoolVar(&o.inner, "inner", false, "internal: measure inside the user namespace")
	flag.StringVar(&o.dir, "dir", "", "internal: work directory prepared by the outer process")
	flag.Parse()

	if o.runs < 1 {
		fmt.Fprintln(os.Stderr, "bench: -runs must be at least 1")
		os.Exit(2)
	}
	if _, err := selectRunners(o.runners); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if _, err := selectWorkloads(o.only); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}

	var err error
	if o.inner {
		err = runInner(o)
	} else {
		err = runOuter(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// selectWorkloads resolves -only into workload names, in table order.
func selectWorkloads(only string) (map[string]bool, error) {
	sel := map[string]bool{}
	if strings.TrimSpace(only) == "" {
		for _, w := range allWorkloads() {
			sel[w.name] = true
		}
		return sel, nil
	}
	for _, f := range strings.Split(only, ",") {
		f = strings.TrimSpace(strings.ToLower(f))
		found := false
		for _, w := range allWorkloads() {
			if f == w.name || f == w.roman || f == "("+w.roman+")" {
				sel[w.name] = true
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown workload %q (want one of %s)", f, workloadNames())
		}
	}
	return sel, nil
}

// allWorkloads are the runners' workloads, then the image workloads.
func allWorkloads() []workloadInfo {
	return append(append([]workloadInfo{}, workloadTable...), imageWorkloadTable...)
}

func workloadNames() string {
	var n []string
	for _, w := range allWorkloads() {
		n = append(n, w.name)
	}
	return strings.Join(n, ", ")
}

// selectRunners resolves -runners.
func selectRunners(list string) (map[string]bool, error) {
	sel := map[string]bool{}
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(strings.ToLower(f))
		if f == "" {
			continue
		}
		if a, ok := runnerAliases[f]; ok {
			f = a
		}
		found := false
		for _, r := range runnerNames {
			if f == r {
				sel[r], found = true, true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown runner %q (want some of %s)", f, strings.Join(runnerNames, ", "))
		}
	}
	return sel, nil
}
