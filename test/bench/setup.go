package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

//go:embed workloads/*.c
var workloadSources embed.FS

// testUser runs every measurement. It has no /etc/subuid or /etc/subgid
// line, so its user namespaces can map only its own id. $REMAINROOT_TEST_USER
// overrides it, as for test/setup-env.sh and the tests.
var testUser = func() string {
	if u := os.Getenv("REMAINROOT_TEST_USER"); u != "" {
		return u
	}
	return "remainroot-test"
}()

// tools the bench needs, and the Debian package of each.
var tools = []struct{ cmd, pkg string }{
	{"gcc", "gcc"},
	{"make", "make"},
	{"proot", "proot"},
	{"fakeroot", "fakeroot"},
	{"find", "findutils"},
	{"setpriv", "util-linux"},
	{"dpkg", "dpkg"},
	{"apt-get", "apt"},
	{"unshare", "util-linux"},
	{"taskset", "util-linux"},
}

func runOuter(o options) error {
	start := time.Now()
	if runtime.GOOS != "linux" {
		return errors.New("linux only")
	}
	asRoot := os.Geteuid() == 0
	if err := ensureTools(asRoot); err != nil {
		return err
	}
	machine := machineInfo()

	dir, err := os.MkdirTemp("", "remainroot-bench-")
	if err != nil {
		return err
	}
	cleanup := func() {
		if o.keep {
			fmt.Fprintf(os.Stderr, "bench: kept %s\n", dir)
			return
		}
		os.RemoveAll(dir)
	}
	defer cleanup()
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	runDir := filepath.Join(dir, "run")
	for _, d := range []string{"bin", "csrc", "src", "run", "run/home", "run/tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}

	// Workloads (i), (iii), (iv): dynamically linked, so that fakeroot's
	// LD_PRELOAD applies to them.
	ents, err := workloadSources.ReadDir("workloads")
	if err != nil {
		return err
	}
	for _, e := range ents {
		src, err := workloadSources.ReadFile("workloads/" + e.Name())
		if err != nil {
			return err
		}
		cpath := filepath.Join(dir, "csrc", e.Name())
		if err := os.WriteFile(cpath, src, 0o644); err != nil {
			return err
		}
		out := filepath.Join(dir, "bin", strings.TrimSuffix(e.Name(), ".c"))
		if b, err := exec.Command("gcc", "-O2", "-Wall", "-o", out, cpath).CombinedOutput(); err != nil {
			return fmt.Errorf("gcc %s: %v\n%s", e.Name(), err, b)
		}
	}
	if err := writeProject(filepath.Join(dir, "src")); err != nil {
		return err
	}
	sel, _ := selectWorkloads(o.only)
	if err := prepareDebs(dir, sel, asRoot); err != nil {
		return err
	}

	// This program and remainroot, where the test user can run them.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := copyFile(self, filepath.Join(dir, "bin", "bench")); err != nil {
		return err
	}
	binAbs, _ := filepath.Abs(o.bin)
	if fi, err := os.Stat(binAbs); err == nil && fi.Mode().IsRegular() {
		if err := copyFile(binAbs, filepath.Join(dir, "bin", "remainroot")); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(os.Stderr, "bench: no remainroot binary at %s: its column will say so\n", binAbs)
	}

	var prefix []string
	who := "the calling user (not root: no test user)"
	images, imagesUserErr := callingPodmanUser(), error(nil)
	if asRoot {
		uid, gid, err := ensureUser()
		if err != nil {
			return err
		}
		images, imagesUserErr = testPodmanUser(uid, gid)
		if err := chownTree(runDir, uid, gid); err != nil {
			return err
		}
		prefix = []string{"setpriv", "--reuid=" + strconv.Itoa(uid), "--regid=" + strconv.Itoa(gid),
			"--clear-groups", "--inh-caps=-all"}
		who = fmt.Sprintf("%s (uid %d, gid %d)", testUser, uid, gid)
	}
	res := Results{Runs: o.runs}
	if selectsRunnerWorkload(sel) {
		if err := runInnerProcess(o, dir, runDir, prefix, who, &res); err != nil {
			return err
		}
	}
	if imagesUserErr != nil {
		res.Images = notRunImages(sel, imagesUserErr.Error())
	} else {
		imageDir := filepath.Join(dir, "images")
		if err := os.Mkdir(imageDir, 0o755); err != nil {
			return err
		}
		res.Images = measureImages(o, sel, imageDir, filepath.Join(dir, "bin", "remainroot"), images)
	}
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(struct {
			Machine map[string]string `json:"machine"`
			*Results
		}{machine, &res}, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	report(os.Stdout, o, &res, machine, who, time.Since(start))
	return nil
}

// runInnerProcess measures the runners' workloads: the bench re-executed
// (as the test user, through prefix, when root) in a single-id user
// namespace; it fills res with what that process reports.
func runInnerProcess(o options, dir, runDir string, prefix []string, who string, res *Results) error {
	argv := append(prefix, "unshare", "--user", "--map-root-user", "--",
		filepath.Join(dir, "bin", "bench"), "-inner", "-dir", dir,
		"-runs", strconv.Itoa(o.runs), "-only", o.only, "-runners", o.runners, "-mode", o.mode,
		"-find-roots", o.findRoots, "-timeout", o.timeout.String(), "-bin", o.bin, "-cpus", o.cpus)

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = runDir
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	fmt.Fprintf(os.Stderr, "bench: measuring as %s in a single-id user namespace, %d run(s) each\n", who, o.runs)
	if err := cmd.Start(); err != nil {
		return err
	}
	pgid := cmd.Process.Pid

	// On SIGINT/SIGTERM, take the inner process group down, then clean up.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		fmt.Fprintf(os.Stderr, "bench: %v: stopping\n", s)
		syscall.Kill(-pgid, syscall.SIGTERM)
		time.Sleep(time.Second)
		syscall.Kill(-pgid, syscall.SIGKILL)
	}()
	werr := cmd.Wait()
	syscall.Kill(-pgid, syscall.SIGKILL) // anything left in its group
	signal.Stop(sigs)
	close(sigs)
	if werr != nil {
		return fmt.Errorf("inner bench process: %v", werr)
	}

	if err := json.Unmarshal(stdout.Bytes(), res); err != nil {
		return fmt.Errorf("inner results: %v", err)
	}
	return nil
}

// ensureTools installs, as root, the Debian packages of missing tools.
func ensureTools(asRoot bool) error {
	var missing, pkgs []string
	seen := map[string]bool{}
	for _, t := range tools {
		if _, err := exec.LookPath(t.cmd); err != nil {
			missing = append(missing, t.cmd)
			if !seen[t.pkg] {
				seen[t.pkg] = true
				pkgs = append(pkgs, t.pkg)
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if !asRoot {
		return fmt.Errorf("missing %s; as root the bench would install %s", strings.Join(missing, ", "), strings.Join(pkgs, " "))
	}
	fmt.Fprintf(os.Stderr, "bench: installing %s\n", strings.Join(pkgs, " "))
	install := func() error {
		c := exec.Command("apt-get", append([]string{"install", "-y", "--no-install-recommends"}, pkgs...)...)
		c.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
		return c.Run()
	}
	if err := install(); err != nil {
		c := exec.Command("apt-get", "update")
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
		c.Run()
		if err := install(); err != nil {
			return fmt.Errorf("apt-get install %s: %v", strings.Join(pkgs, " "), err)
		}
	}
	for _, t := range tools {
		if _, err := exec.LookPath(t.cmd); err != nil {
			return fmt.Errorf("%s still missing after installing %s", t.cmd, t.pkg)
		}
	}
	return nil
}

// ensureUser creates testUser if needed (no home directory) and removes
// any /etc/subuid and /etc/subgid line of it.
func ensureUser() (uid, gid int, err error) {
	u, err := user.Lookup(testUser)
	if err != nil {
		out, cerr := exec.Command("useradd", "-M", "-s", "/usr/sbin/nologin", testUser).CombinedOutput()
		if u, err = user.Lookup(testUser); err != nil { // another process may have won the race
			return 0, 0, fmt.Errorf("useradd %s: %v %s", testUser, cerr, out)
		}
	}
	if uid, err = strconv.Atoi(u.Uid); err != nil {
		return 0, 0, err
	}
	if gid, err = strconv.Atoi(u.Gid); err != nil {
		return 0, 0, err
	}
	for _, f := range []struct {
		path string
		id   int
	}{{"/etc/subuid", uid}, {"/etc/subgid", gid}} {
		if err := dropSubIDLines(f.path, testUser, strconv.Itoa(uid), strconv.Itoa(f.id)); err != nil {
			return 0, 0, err
		}
	}
	return uid, gid, nil
}

// dropSubIDLines removes from path the lines whose owner field is one of
// names; the file is rewritten only when such a line exists.
func dropSubIDLines(path string, names ...string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var keep []string
	dropped := false
	for _, line := range strings.SplitAfter(string(b), "\n") {
		owner, _, _ := strings.Cut(strings.TrimSpace(line), ":")
		match := false
		for _, n := range names {
			if owner == n {
				match = true
			}
		}
		if match {
			dropped = true
			continue
		}
		keep = append(keep, line)
	}
	if !dropped {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp := path + ".remainroot-bench"
	if err := os.WriteFile(tmp, []byte(strings.Join(keep, "")), fi.Mode().Perm()); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: removed %s's line from %s\n", testUser, path)
	return os.Rename(tmp, path)
}

func chownTree(root string, uid, gid int) error {
	return filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// machineInfo describes the machine and the peers' versions.
func machineInfo() map[string]string {
	m := map[string]string{}
	run := func(name string, args ...string) string {
		b, err := exec.Command(name, args...).Output()
		if err != nil {
			return "?"
		}
		return strings.TrimSpace(string(b))
	}
	m["kernel"] = run("uname", "-r")
	m["nproc"] = run("nproc")
	m["cpu"] = "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	m["memory"] = "?"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				if kib, err := strconv.ParseFloat(f[1], 64); err == nil {
					m["memory"] = fmt.Sprintf("%.1f GiB", kib/1024/1024)
				}
			}
		}
	}
	m["date"] = time.Now().Format("2006-01-02 15:04:05 MST")
	m["load"] = loadavg()
	ver := func(pkg string) string {
		return run("dpkg-query", "-W", "-f=${Version}", pkg)
	}
	m["proot"] = ver("proot")
	m["fakeroot"] = ver("fakeroot")
	m["dpkg"] = ver("dpkg")
	m["gcc"] = run("gcc", "-dumpfullversion")
	m["go"] = runtime.Version()
	return m
}

// loadavg is the 1-minute load average: other work on the machine skews
// the timings.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
