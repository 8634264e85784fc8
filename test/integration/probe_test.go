package integration

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

const probeTimeout = 2 * time.Minute

// buildProbe compiles test/probe/probe.c.
func buildProbe(t *testing.T) string {
	t.Helper()
	return testenv.CompileC(t, filepath.Join(testenv.ModuleRoot(t), "test", "probe", "probe.c"))
}

// suidCopy copies the probe into a fresh directory on a file system
// mounted without nosuid, readable by everyone, and makes the copy
// set-user-ID with the given owner.
func suidCopy(t *testing.T, probe string, uid, gid int) string {
	t.Helper()
	var dir string
	for _, base := range []string{os.TempDir(), "/var/tmp", testenv.ModuleRoot(t)} {
		opts, err := exec.Command("findmnt", "-n", "-o", "OPTIONS", "-T", base).Output()
		if err != nil || strings.Contains(","+strings.TrimSpace(string(opts))+",", ",nosuid,") {
			continue
		}
		if d, err := os.MkdirTemp(base, "remainroot-suid-"); err == nil {
			dir = d
			break
		}
	}
	if dir == "" {
		t.Fatal("no directory on a file system mounted without nosuid")
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(probe)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(dir, "probe-suid")
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	// chown clears the set-user-ID bit: chmod afterwards.
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	return path
}

// runProbe runs cmd and returns the probe's standard output, failing the
// test if it does not exit 0.
func runProbe(t *testing.T, what string, cmd *exec.Cmd) string {
	t.Helper()
	stdout, stderr, code := testenv.Run(t, cmd, probeTimeout)
	if code != 0 {
		t.Fatalf("%s: exit status %d\nstderr:\n%s\nstdout (tail):\n%s", what, code, stderr, tail(stdout, 40))
	}
	if stderr != "" {
		t.Logf("%s: stderr:\n%s", what, stderr)
	}
	saveOutput(t, what, stdout)
	return stdout
}

// saveOutput writes out to a file in $REMAINROOT_PROBE_OUT, if set, for
// inspection: <test name>.<what>.txt.
func saveOutput(t *testing.T, what, out string) {
	dir := os.Getenv("REMAINROOT_PROBE_OUT")
	if dir == "" {
		return
	}
	name := strings.NewReplacer("/", "_", " ", "_", "(", "", ")", "", ",", "").Replace(t.Name() + "." + what)
	if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(out), 0o644); err != nil {
		t.Logf("save output: %v", err)
	}
}

// unmappedOwner is the uid and gid of the probe's file for scenario
// unmapped-owner: an id that no user exists for, so that the single-id
// namespace does not map it, nor does the namespace that the reference
// run makes mapping only its own root and 65534.
const unmappedOwner = 4242

// unmappedFile creates a world-readable file owned by unmappedOwner in a
// fresh directory (removed when the test ends), with a symbolic link to it
// (FILE.link) and a sticky directory (FILE.dir) of the same owner.
func unmappedFile(t *testing.T) string {
	t.Helper()
	dir := testenv.PublicDir(t, "remainroot-unmapped-")
	path := filepath.Join(dir, "file")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("file", path+".link"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path+".dir", 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path+".dir", 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + ".link", path + ".dir"} {
		if err := os.Lchown(p, unmappedOwner, unmappedOwner); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// referenceOutput runs the probe as real root in a namespace mapping every
// id: what the kernel does for root.
func referenceOutput(t *testing.T, probe string, args ...string) string {
	t.Helper()
	suid := suidCopy(t, probe, 0, 0)
	args = append([]string{"--suid", suid, "--unmapped", unmappedFile(t)}, args...)
	return runProbe(t, "reference (full mapping, real root)",
		testenv.FullMapCommand(t, probe, args...))
}

// singleIDOutput runs the probe as the unprivileged user in a single-id
// namespace, under remainroot when emulate is true (with the remainroot
// run options opts).
func singleIDOutput(t *testing.T, probe string, emulate bool, opts []string, args ...string) string {
	t.Helper()
	uid, gid := testenv.UnprivUser(t)
	suid := suidCopy(t, probe, uid, gid)
	args = append([]string{"--suid", suid, "--unmapped", unmappedFile(t)}, args...)
	if !emulate {
		return runProbe(t, "single-id without remainroot", testenv.SingleIDCommand(t, probe, args...))
	}
	bin := testenv.Binary(t)
	argv := append(append(append([]string{"run"}, opts...), "--", probe), args...)
	return runProbe(t, "single-id under remainroot", testenv.SingleIDCommand(t, bin, argv...))
}

// TestProbeDeterministic checks that two reference runs print the same.
func TestProbeDeterministic(t *testing.T) {
	testenv.RequireRoot(t)
	probe := buildProbe(t)
	a := referenceOutput(t, probe)
	b := referenceOutput(t, probe)
	if n := strings.Count(a, "\n"); n < 200 {
		t.Errorf("probe printed only %d lines", n)
	}
	if a != b {
		t.Errorf("probe output is not deterministic:\n%s", lineDiff(a, b, "run1", "run2"))
	}
}

// TestProbeMatchesKernel requires the probe's output under remainroot in a
// single-id namespace to equal its output as real root, scenario by
// scenario.
func TestProbeMatchesKernel(t *testing.T) {
	testenv.RequireRoot(t)
	probe := buildProbe(t)
	want := referenceOutput(t, probe)
	got := singleIDOutput(t, probe, true, nil)
	compareScenarios(t, want, got)
}

// issue11Scenarios are the probe's scenarios about the own pid in a pid
// namespace, bad pointers, read-only mounts, chowns after allowed ones,
// unmapped owners and seccomp without CAP_SYS_ADMIN: mode full must give
// the kernel's answers there too.
const issue11Scenarios = "caps-own-pid,efault,erofs,chown-after-allowed,unmapped-owner,seccomp-nocap"

// TestProbeFullMatchesKernel runs those scenarios under mode full.
func TestProbeFullMatchesKernel(t *testing.T) {
	testenv.RequireRoot(t)
	probe := buildProbe(t)
	want := referenceOutput(t, probe, "--only", issue11Scenarios)
	got := singleIDOutput(t, probe, true, []string{"--mode", "full"}, "--only", issue11Scenarios)
	if n := strings.Count(want, "\n"); n < 100 {
		t.Errorf("probe printed only %d lines", n)
	}
	compareScenarios(t, want, got)
}

// compareScenarios requires got to equal want scenario by scenario.
func compareScenarios(t *testing.T, want, got string) {
	t.Helper()
	if got == want {
		return
	}
	wantSc, order := splitScenarios(want)
	gotSc, _ := splitScenarios(got)
	for _, name := range order {
		t.Run(name, func(t *testing.T) {
			if ownerScenarios[name] {
				checkStricterOnly(t, wantSc[name], gotSc[name])
				return
			}
			if w, g := wantSc[name], gotSc[name]; w != g {
				t.Errorf("scenario %s differs (-kernel +remainroot):\n%s", name, lineDiff(w, g, "kernel", "remainroot"))
			}
		})
	}
	for name := range gotSc {
		if _, ok := wantSc[name]; !ok {
			t.Errorf("unexpected scenario %q in remainroot's output:\n%s", name, gotSc[name])
		}
	}
}

// ownerScenarios need owners recorded by an earlier chown: mode creds keeps
// none (the file still belongs to the namespace's root), so a later chown
// by the new "owner" is refused. Mode full records owners. Under creds the
// scenario must differ from the kernel only by refusing: never by allowing
// something the kernel refuses.
var ownerScenarios = map[string]bool{"chown-owned": true}

// checkStricterOnly requires got to equal want line by line, except lines
// where the kernel succeeded ("= 0") and remainroot said EPERM.
func checkStricterOnly(t *testing.T, want, got string) {
	t.Helper()
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	if len(w) != len(g) {
		t.Fatalf("line counts differ (-kernel +remainroot):\n%s", lineDiff(want, got, "kernel", "remainroot"))
	}
	refused := 0
	for i := range w {
		if w[i] == g[i] {
			continue
		}
		wp, wok := strings.CutSuffix(w[i], " = 0")
		gp, gok := strings.CutSuffix(g[i], " = -1 EPERM")
		if wok && gok && wp == gp {
			refused++
			continue
		}
		t.Errorf("line %d: kernel %q, remainroot %q: only a refusal (EPERM where the kernel said 0) is expected here", i+1, w[i], g[i])
	}
	t.Logf("%d calls refused for lack of recorded owners (mode full records them)", refused)
}

// TestProbeDetectsSingleID checks that the probe run natively in a
// single-id namespace differs from the kernel's root behaviour: without
// emulation, the probe must notice.
func TestProbeDetectsSingleID(t *testing.T) {
	testenv.RequireRoot(t)
	probe := buildProbe(t)
	want := referenceOutput(t, probe)
	got := singleIDOutput(t, probe, false, nil)
	if got == want {
		t.Fatal("probe output in a bare single-id namespace equals the kernel's root behaviour: the probe detects nothing")
	}
	for _, line := range []string{
		"[apt] setgroups(1, nogroup) = -1 EPERM",
		"[apt] setegid(65534) = -1 EINVAL",
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("bare single-id output lacks %q", line)
		}
		if strings.Contains(want, line+"\n") {
			t.Errorf("reference output has %q", line)
		}
	}
}

// splitScenarios groups the probe's lines by scenario: the label in
// brackets up to its first '/', so that "[exec/root]" belongs to "exec".
// The auxiliary vector lines printed after each execve form a group of
// their own, "auxv", so that a tracer that does not rewrite the auxiliary
// vector fails that group alone. It returns the groups and the order in
// which they first appear.
func splitScenarios(out string) (map[string]string, []string) {
	groups := map[string]*strings.Builder{}
	var order []string
	for _, line := range strings.SplitAfter(out, "\n") {
		if line == "" {
			continue
		}
		name := "?"
		if strings.HasPrefix(line, "[") {
			if end := strings.Index(line, "]"); end > 0 {
				name, _, _ = strings.Cut(line[1:end], "/")
				if strings.HasPrefix(line[end+1:], "   auxv ") {
					name = "auxv"
				}
			}
		}
		b, ok := groups[name]
		if !ok {
			b = &strings.Builder{}
			groups[name] = b
			order = append(order, name)
		}
		b.WriteString(line)
	}
	res := make(map[string]string, len(groups))
	for k, v := range groups {
		res[k] = v.String()
	}
	return res, order
}

// lineDiff returns a unified diff of a and b, from diff -u if available,
// else the first differing lines with context.
func lineDiff(a, b, nameA, nameB string) string {
	dir, err := os.MkdirTemp("", "remainroot-diff-")
	if err == nil {
		defer os.RemoveAll(dir)
		fa, fb := filepath.Join(dir, nameA), filepath.Join(dir, nameB)
		if os.WriteFile(fa, []byte(a), 0o644) == nil && os.WriteFile(fb, []byte(b), 0o644) == nil {
			cmd := exec.Command("diff", "-u", "--label", nameA, "--label", nameB, fa, fb)
			var out bytes.Buffer
			cmd.Stdout = &out
			cmd.Run()
			if out.Len() > 0 {
				return out.String()
			}
		}
	}
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(la) && i < len(lb) && la[i] == lb[i] {
		i++
	}
	var s strings.Builder
	fmt.Fprintf(&s, "--- %s\n+++ %s\n@@ line %d @@\n", nameA, nameB, i+1)
	for k := max(0, i-3); k < i; k++ {
		fmt.Fprintf(&s, " %s\n", la[k])
	}
	for k := i; k < min(len(la), i+10); k++ {
		fmt.Fprintf(&s, "-%s\n", la[k])
	}
	for k := i; k < min(len(lb), i+10); k++ {
		fmt.Fprintf(&s, "+%s\n", lb[k])
	}
	return s.String()
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}
