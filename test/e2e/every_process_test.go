package e2e

// Issue 8, every process of a container: podman exec, podman build and
// --user under rootless podman with a single mapping, crun and runc, each
// with remainroot (the precreate hook's supervisor, or the build hooks
// directory) and without it (today's failure, or the behaviour remainroot
// must keep).

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// epNoUserRe matches each runtime's failure to switch to a user the
// namespace does not map.
var epNoUserRe = map[string]*regexp.Regexp{
	"crun": regexp.MustCompile(`crun: cannot setres[ug]id to \d+: Invalid argument`),
	"runc": regexp.MustCompile(`unable to setup user: invalid argument`),
}

func hookName(hook bool) string { return map[bool]string{false: "no-hook", true: "hook"}[hook] }

// TestEveryProcessExec: podman exec into a container with and without the
// annotation (issue 8, point 1).
func TestEveryProcessExec(t *testing.T) {
	bin := setup(t, "podman", "crun", "runc", "script")
	h := epHooksFor(t, bin)
	for _, rt := range podmanRuntimes {
		for _, hook := range []bool{false, true} {
			t.Run(rt+"/"+hookName(hook), func(t *testing.T) { epExec(t, h, rt, hook) })
		}
	}
}

func epExec(t *testing.T, h epHooks, rt string, hook bool) {
	mode := map[bool]string{true: "creds"}[hook]
	id := h.epStart(t, rt, mode, []string{"--network=host"}, debianImage, "sleep", "infinity")
	socket := ""
	if hook {
		socket = epRequireSupervised(t, id)
	} else {
		epRequireUntouched(t, id)
	}
	podExec := func(args ...string) result {
		return h.podman(t, 4*time.Minute, append([]string{"exec"}, args...)...)
	}
	row := func(t *testing.T, scenario string) { record(t, "podman+"+rt, "podman exec: "+scenario, hook) }

	t.Run("apt", func(t *testing.T) {
		row(t, "apt-get install hello")
		r := podExec(id, "sh", "-c", "apt-get update && apt-get install -y --no-install-recommends hello && hello")
		if hook {
			if r.code != 0 || !strings.Contains(r.stdout, "Hello, world!") || strings.Contains(r.output(), "setgroups") {
				t.Errorf("want apt-get update and install to work and hello to print \"Hello, world!\"\n%s\n%s", r, logReport(id))
			}
		} else if r.code == 0 || !strings.Contains(r.output(), "E: setgroups 65534 failed - setgroups (1: Operation not permitted)") {
			t.Errorf("want today's failure \"E: setgroups 65534 failed\"\n%s", r)
		}
	})
	t.Run("su", func(t *testing.T) {
		row(t, "su -s /bin/sh nobody -c id")
		r := podExec(id, "su", "-s", "/bin/sh", "nobody", "-c", "id")
		if hook {
			if r.code != 0 || strings.TrimSpace(r.stdout) != nobodyID {
				t.Errorf("want nobody's ids\n%s\n%s", r, logReport(id))
			}
		} else if r.code == 0 || !strings.Contains(r.output(), "su: cannot set groups: Operation not permitted") {
			t.Errorf("want today's failure \"su: cannot set groups: Operation not permitted\"\n%s", r)
		}
	})
	for _, c := range []struct{ user, want string }{
		// As root podman with a real mapping prints them: the exec's
		// additionalGids are podman's (none for a numeric user).
		{"1000:1000", "uid=1000 gid=1000 groups=1000"},
		{"1000", "uid=1000 gid=0(root) groups=0(root)"},
		{"www-data", "uid=33(www-data) gid=33(www-data) groups=33(www-data)"},
	} {
		t.Run("user="+c.user, func(t *testing.T) {
			row(t, "--user "+c.user+" id")
			r := podExec("--user", c.user, id, "id")
			if hook {
				if r.code != 0 || strings.TrimSpace(r.stdout) != c.want {
					t.Errorf("want %q\n%s\n%s", c.want, r, logReport(id))
				}
			} else if r.code == 0 || !epNoUserRe[rt].MatchString(r.output()) {
				t.Errorf("want today's failure %q\n%s", epNoUserRe[rt], r)
			}
		})
	}
	// Without remainroot the exec as 1000:1000 cannot start at all (the
	// --user rows above show that failure): this check is remainroot's alone.
	if hook {
		t.Run("user-caps", func(t *testing.T) {
			row(t, "--user 1000:1000 setpriv -ddd (capget)")
			r := podExec("--user", "1000:1000", id, "setpriv", "-ddd")
			for _, want := range []string{"uid: 1000\n", "euid: 1000\n", "egid: 1000\n",
				"Effective capabilities: [none]\n", "Permitted capabilities: [none]\n"} {
				if r.code != 0 || !strings.Contains(r.stdout, want) {
					t.Errorf("setpriv -ddd: want %q\n%s\n%s", strings.TrimSpace(want), r, logReport(id))
					break
				}
			}
		})
	}
	t.Run("tty", func(t *testing.T) {
		row(t, "-it sh on a terminal (size, resize, ctrl-c, exit status)")
		epExecTTY(t, h, id, hook)
	})

	if !hook {
		epRequireUntouched(t, id)
		return
	}
	if r := removeContainers(t, h.podman, time.Minute, id); r.code != 0 {
		t.Fatalf("podman rm failed\n%s", r)
	}
	epAssertGone(t, id, socket)
}

// epExecTTY runs `podman exec -it ID sh` on a terminal of 37 rows and 91
// columns: the shell must see that size and a later resize, ctrl-c must
// interrupt its child (and not the shell), and exec must end with the
// shell's exit status.
func epExecTTY(t *testing.T, h epHooks, id string, hook bool) {
	// The outer terminal is resized to 50x120 once the test creates
	// trigger (a background job of script's shell: its stdin is
	// /dev/null, hence /dev/tty); podman passes SIGWINCH's new size on.
	// stty sets rows and columns with two ioctls, so two SIGWINCHs, and
	// podman now and then passes only the first on (seen without
	// remainroot too: 50x91 inside); until the test sees 50x120 inside
	// (it creates trigger.seen) the job moves the columns away and back
	// each second, a fresh SIGWINCH whose size is 50x120. It ends with
	// podman ($$: the shell execs it).
	trigger := filepath.Join(userTempDir(t), "resize")
	cmdline := fmt.Sprintf("stty rows 37 cols 91; (while [ ! -e %[1]s ]; do sleep 0.1; done; stty rows 50 cols 120 </dev/tty; "+
		"while kill -0 $$ 2>/dev/null && [ ! -e %[1]s.seen ]; do sleep 1; [ -e %[1]s.seen ] || { stty cols 119 </dev/tty; stty cols 120 </dev/tty; }; done) & "+
		"exec podman --hooks-dir %[2]s --hooks-dir %[3]s exec -it %[4]s sh", trigger, h.run, h.precreate, id)
	p := epStartPTY(t, cmdline, 2*time.Minute)
	fail := func(format string, a ...any) {
		t.Fatalf("%s\nterminal transcript:\n%s\n%s", fmt.Sprintf(format, a...), p.transcript(), logReport(id))
	}
	prompt := regexp.MustCompile(`# $`)
	if p.expect(prompt, 30*time.Second) == nil {
		fail("no shell prompt within 30 s")
	}
	p.send("stty size\r")
	if m := p.expect(regexp.MustCompile(`(?:\n|# )(\d+ \d+)\r?\n`), 30*time.Second); m == nil || m[1] != "37 91" {
		fail("stty size: want \"37 91\" (the outer terminal's size), got %q", m)
	}
	if err := os.WriteFile(trigger, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	resized := false
	for deadline := time.Now().Add(20 * time.Second); !resized && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		p.send("stty size\r")
		m := p.expect(regexp.MustCompile(`(?:\n|# )(\d+ \d+)\r?\n`), 30*time.Second)
		if m == nil {
			fail("stty size after the resize printed nothing")
		}
		resized = m[1] == "50 120"
	}
	os.WriteFile(trigger+".seen", nil, 0o644)
	if !resized {
		fail("after the outer terminal was resized to 50x120, stty size inside still shows the old size")
	}
	if hook {
		// The shell's children are emulated too.
		p.send("su -s /bin/sh nobody -c id\r")
		if p.expect(regexp.MustCompile(regexp.QuoteMeta(nobodyID)), 30*time.Second) == nil {
			fail("su to nobody in the terminal: want nobody's ids")
		}
	}
	// The child says it runs (it is then the terminal's foreground
	// process group) before it becomes sleep.
	// The shell's prompt after the last command may come after the echo
	// of the next line (a loaded machine): the child's line follows a
	// newline or that prompt.
	p.send("sh -c 'echo child-runs; exec sleep 100'\r")
	if p.expect(regexp.MustCompile(`(?:\n|# )child-runs\r?\n`), 30*time.Second) == nil {
		fail("the shell's child did not start")
	}
	sent := time.Now()
	p.send("\x03")
	if p.expect(regexp.MustCompile(`\^C`), 30*time.Second) == nil {
		fail("ctrl-c: the terminal did not echo ^C")
	}
	p.send("echo \"child-status=$?\"\r")
	m := p.expect(regexp.MustCompile(`child-status=(\d+)`), 30*time.Second)
	if m == nil || m[1] != "130" {
		fail("ctrl-c: want the child killed by SIGINT (status 130) and the shell alive, got %q", m)
	}
	if d := time.Since(sent); d > 5*time.Second {
		fail("ctrl-c took %s to end the child", d)
	}
	p.send("exit 5\r")
	code, ok := p.wait(30 * time.Second)
	if !ok {
		fail("podman exec -it did not end within 30 s of exit 5")
	}
	if code != 5 {
		fail("exit status %d, want 5 (the shell's)", code)
	}
}

// TestEveryProcessUser: podman run --user with and without the annotation
// (issue 8, point 3).
func TestEveryProcessUser(t *testing.T) {
	bin := setup(t, "podman", "crun", "runc", "setpriv")
	h := epHooksFor(t, bin)
	// The kernel's answer to a non-root user's setpriv --reuid=0: the
	// test user on the host.
	regain := []string{"setpriv", "--reuid=0", "--regid=0", "--clear-groups", "id"}
	ref := run(t, asUser(t, regain[0], regain[1:]...), time.Minute)
	if ref.code == 0 || !strings.Contains(ref.stderr, "Operation not permitted") {
		t.Fatalf("setpriv --reuid=0 as the test user on the host: want EPERM\n%s", ref)
	}
	cases := []struct {
		name  string
		extra []string
		want  string
	}{
		{"1000:1000", []string{"--user", "1000:1000"}, "uid=1000(1000) gid=1000(1000) groups=1000(1000)"},
		{"1000:1000 --group-add 4", []string{"--user", "1000:1000", "--group-add", "4"}, "uid=1000(1000) gid=1000(1000) groups=1000(1000),4(adm)"},
		{"nobody", []string{"--user", "nobody"}, nobodyID},
		{"www-data (image's passwd)", []string{"--user", "www-data"}, "uid=33(www-data) gid=33(www-data) groups=33(www-data)"},
		{"_apt (image's passwd)", []string{"--user", "_apt"}, "uid=42(_apt) gid=65534(nogroup) groups=65534(nogroup)"},
	}
	for _, rt := range podmanRuntimes {
		for _, hook := range []bool{false, true} {
			mode := map[bool]string{true: "creds"}[hook]
			for _, c := range cases {
				t.Run(rt+"/"+hookName(hook)+"/"+c.name, func(t *testing.T) {
					record(t, "podman+"+rt, "run --user "+c.name+" id", hook)
					r, id := h.epRun(t, rt, mode, append([]string{"--network=none"}, c.extra...), debianImage, "id")
					if hook {
						if r.code != 0 || strings.TrimSpace(r.stdout) != c.want {
							t.Errorf("want %q\n%s\n%s", c.want, r, logReport(id))
						}
					} else if r.code == 0 || !epNoUserRe[rt].MatchString(r.output()) {
						t.Errorf("want today's failure %q\n%s", epNoUserRe[rt], r)
					}
				})
			}
		}
		t.Run(rt+"/hook/caps", func(t *testing.T) {
			record(t, "podman+"+rt, "run --user 1000:1000: no capabilities (setpriv -ddd)", true)
			r, id := h.epRun(t, rt, "creds", []string{"--network=none", "--user", "1000:1000"}, debianImage, "setpriv", "-ddd")
			for _, want := range []string{"uid: 1000\n", "suid: 1000\n", "sgid: 1000\n", "Supplementary groups: 1000\n",
				"Effective capabilities: [none]\n", "Permitted capabilities: [none]\n", "Ambient capabilities: [none]\n"} {
				if r.code != 0 || !strings.Contains(r.stdout, want) {
					t.Errorf("want %q\n%s\n%s", strings.TrimSpace(want), r, logReport(id))
					break
				}
			}
		})
		t.Run(rt+"/hook/regain-root", func(t *testing.T) {
			record(t, "podman+"+rt, "run --user 1000:1000: setpriv --reuid=0 fails EPERM", true)
			r, id := h.epRun(t, rt, "creds", []string{"--network=none", "--user", "1000:1000"}, debianImage, regain...)
			if r.code != ref.code || strings.TrimSpace(r.stderr) != strings.TrimSpace(ref.stderr) || r.stdout != "" {
				t.Errorf("want what the kernel answers a non-root user (exit %d, %q)\n%s\n%s",
					ref.code, strings.TrimSpace(ref.stderr), r, logReport(id))
			}
		})
		t.Run(rt+"/hook/exec-into-user-container", func(t *testing.T) {
			record(t, "podman+"+rt, "exec into a run --user 1000:1000 container: its user; exec --user 0: root", true)
			id := h.epStart(t, rt, "creds", []string{"--network=none", "--user", "1000:1000"}, debianImage, "sleep", "infinity")
			r := h.podman(t, time.Minute, "exec", id, "id")
			if want := "uid=1000(1000) gid=1000(1000) groups=1000(1000)"; r.code != 0 || strings.TrimSpace(r.stdout) != want {
				t.Errorf("exec: want %q (the container's user)\n%s\n%s", want, r, logReport(id))
			}
			r = h.podman(t, time.Minute, "exec", "--user", "0", id, "su", "-s", "/bin/sh", "nobody", "-c", "id")
			if r.code != 0 || strings.TrimSpace(r.stdout) != nobodyID {
				t.Errorf("exec --user 0 su nobody: want nobody's ids\n%s\n%s", r, logReport(id))
			}
		})
		t.Run(rt+"/hook/full-owner", func(t *testing.T) {
			record(t, "podman+"+rt, "run --user 1000:1000 (mode full): new files are the user's", true)
			r, id := h.epRun(t, rt, "full", []string{"--network=none", "--user", "1000:1000"}, debianImage,
				"sh", "-c", fullOwnLib+"touch /tmp/n && mkdir /tmp/d && own /tmp/n /tmp/d")
			if d := fullCheckOwners(r.stdout, map[string]string{"/tmp/n": "1000:1000", "/tmp/d": "1000:1000"}); r.code != 0 || len(d) > 0 {
				t.Errorf("%s\n%s\n%s", strings.Join(d, "\n"), r, logReport(id))
			}
		})
		t.Run(rt+"/hook/full-exec-owner", func(t *testing.T) {
			record(t, "podman+"+rt, "exec (mode full): the init's owners, new files the exec user's, chown seen by later execs", true)
			// The init's tree records an owner the execs must see.
			id := h.epStart(t, rt, "full", []string{"--network=none"}, debianImage,
				"sh", "-c", "touch /tmp/i && chown 44:45 /tmp/i && touch /tmp/ready && exec sleep infinity")
			deadline := time.Now().Add(20 * time.Second)
			for h.podman(t, time.Minute, "exec", id, "test", "-e", "/tmp/ready").code != 0 {
				if time.Now().After(deadline) {
					t.Fatalf("the container's init did not create /tmp/ready\n%s", logReport(id))
				}
				time.Sleep(200 * time.Millisecond)
			}
			r := h.podman(t, time.Minute, "exec", "--user", "1000:1000", id, "sh", "-c", fullOwnLib+"touch /tmp/n && own /tmp/n /tmp/i")
			r2 := h.podman(t, time.Minute, "exec", id, "sh", "-c", fullOwnLib+"chown 33:33 /tmp/n && touch /tmp/r && own /tmp/n /tmp/r")
			r3 := h.podman(t, time.Minute, "exec", "--user", "1000:1000", id, "sh", "-c", fullOwnLib+"own /tmp/n /tmp/r /tmp/i")
			if d := fullCheckOwners(r.stdout, map[string]string{"/tmp/n": "1000:1000", "/tmp/i": "44:45"}); r.code != 0 || len(d) > 0 {
				t.Errorf("exec --user 1000:1000: %s\n%s\n%s", strings.Join(d, "\n"), r, logReport(id))
			}
			if d := fullCheckOwners(r3.stdout, map[string]string{"/tmp/n": "33:33", "/tmp/r": "0:0", "/tmp/i": "44:45"}); r3.code != 0 || len(d) > 0 {
				t.Errorf("a later exec: %s\n%s\n%s", strings.Join(d, "\n"), r3, logReport(id))
			}
			if d := fullCheckOwners(r2.stdout, map[string]string{"/tmp/n": "33:33", "/tmp/r": "0:0"}); r2.code != 0 || len(d) > 0 {
				t.Errorf("exec as root: %s\n%s\n%s", strings.Join(d, "\n"), r2, logReport(id))
			}
		})
	}
}

// epContainerfile's RUN steps are issue 8's (point 2); each prints what
// the test checks. attr brings getfattr, to read the image's xattrs.
const epContainerfile = `FROM ` + debianImage + `
RUN apt-get update && apt-get install -y --no-install-recommends cowsay attr && /usr/games/cowsay built-with-remainroot
RUN useradd -m app && su app -c id && stat -c 'home-owner=%u:%g' /home/app
RUN touch /srv/f && chown app /srv/f && stat -c 'srv-f-owner=%u:%g' /srv/f
`

// TestEveryProcessBuild: podman build with the build hooks directory
// (issue 8, point 2) in modes creds and full under crun and runc, and
// the same build without it; then the owners the images' files
// have, and where mode full's records end up.
func TestEveryProcessBuild(t *testing.T) {
	bin := setup(t, "podman", "crun", "runc")
	h := epHooksFor(t, bin)
	ctx := userTempDir(t)
	writeUserFile(t, filepath.Join(ctx, "Containerfile"), epContainerfile)
	build := func(t *testing.T, rt, hooks, tag string) result {
		args := []string{"build", "--runtime", rt, "--no-cache", "--network=host", "-t", tag}
		if hooks != "" {
			args = append(args, "--hooks-dir", hooks) // build's own option
			t.Cleanup(func() { podman(t, 2*time.Minute, "rmi", "-f", tag) })
		}
		cmd := asUser(t, "podman", append(args, ctx)...)
		cmd.Dir = ctx
		r := run(t, cmd, 8*time.Minute)
		r.stderr = podmanNoise.ReplaceAllString(r.stderr, "")
		return r
	}
	for _, rt := range podmanRuntimes {
		t.Run(rt+"/no-hook", func(t *testing.T) {
			record(t, "podman+"+rt, "podman build (apt, useradd+su, chown)", false)
			r := build(t, rt, "", "localhost/rr-e2e-ep-nohook:latest")
			if r.code == 0 || !strings.Contains(r.output(), "E: setgroups 65534 failed - setgroups (1: Operation not permitted)") {
				t.Errorf("want today's failure at apt-get (\"E: setgroups 65534 failed\")\n%s", r)
			}
		})
	}
	for _, c := range []struct{ rt, mode string }{{"crun", "creds"}, {"runc", "creds"}, {"crun", "full"}, {"runc", "full"}} {
		t.Run(c.rt+"/hook-"+c.mode, func(t *testing.T) {
			record(t, "podman+"+c.rt, "podman build --hooks-dir (mode "+c.mode+"): apt, useradd+su, chown", true)
			tag := "localhost/rr-e2e-ep-" + c.rt + "-" + c.mode + ":latest"
			r := build(t, c.rt, h.build[c.mode], tag)
			t.Logf("build took %s", r.duration.Round(time.Second))
			owner := map[string]string{"creds": "0:0", "full": "1000:0"}[c.mode]
			home := map[string]string{"creds": "0:0", "full": "1000:1000"}[c.mode]
			for _, want := range []string{"built-with-remainroot", "uid=1000(app) gid=1000(app) groups=1000(app)",
				"home-owner=" + home + "\n", "srv-f-owner=" + owner + "\n"} {
				if r.code != 0 || !strings.Contains(r.stdout, want) {
					t.Fatalf("want the build to succeed and print %q\n%s", strings.TrimSpace(want), r)
				}
			}
			epBuiltImage(t, h, c.rt, c.mode, tag)
		})
	}
}

// epBuiltImage records what the built image's files hold: their owners
// as a container without remainroot, and with mode full, sees them, and
// the user.rootlesscontainers records (which podman's storage keeps in
// the image's layers).
func epBuiltImage(t *testing.T, h epHooks, rt, mode, tag string) {
	script := `stat -c '%u:%g %n' /srv/f /home/app /home/app/.bashrc; ` +
		`for p in /srv/f /home/app; do v=$(getfattr -h -e hex -n user.rootlesscontainers $p 2>/dev/null | sed -n 's/^user.rootlesscontainers=//p'); echo "xattr $p ${v:-none}"; done`
	plain, id := h.epRun(t, rt, "", []string{"--network=none"}, tag, "sh", "-c", script)
	full, fid := h.epRun(t, rt, "full", []string{"--network=none"}, tag, "sh", "-c", script)
	if plain.code != 0 || full.code != 0 {
		t.Fatalf("podman run of the built image failed\n%s\n%s\n%s", plain, full, logReport(fid))
	}
	epRequireUntouchedLog(t, id)
	t.Logf("image %s (mode %s build), without remainroot:\n%s\nwith mode full:\n%s", tag, mode, plain.stdout, full.stdout)
	xattrs := map[string]string{}
	for _, l := range strings.Split(plain.stdout, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "xattr" {
			xattrs[f[1]] = f[2]
		}
	}
	// The kernel's owners in the image are root's: a rootless build has
	// no other id to give.
	for _, p := range []string{"/srv/f", "/home/app", "/home/app/.bashrc"} {
		if !strings.Contains(plain.stdout, "0:0 "+p+"\n") {
			t.Errorf("without remainroot, %s: want owner 0:0 in the image", p)
		}
	}
	switch mode {
	case "creds":
		// Mode creds records nothing: no xattr, root everywhere.
		for p, v := range xattrs {
			if v != "none" {
				t.Errorf("mode creds build: %s carries user.rootlesscontainers %s", p, v)
			}
		}
		if !strings.Contains(full.stdout, "0:0 /srv/f\n") {
			t.Errorf("mode creds build seen with mode full: want /srv/f 0:0")
		}
	case "full":
		// Mode full's records are in the image's layer as
		// user.rootlesscontainers (podman's storage keeps user xattrs),
		// so mode full shows the build's owners.
		for p, want := range map[string]string{"/srv/f": "1000:0", "/home/app": "1000:1000"} {
			got, err := epDecodeHex(xattrs[p])
			if err != nil || got != want {
				t.Errorf("mode full build: %s: user.rootlesscontainers %q (%v), want %s", p, xattrs[p], err, want)
			}
		}
		for _, want := range []string{"1000:0 /srv/f\n", "1000:1000 /home/app\n", "1000:1000 /home/app/.bashrc\n"} {
			if !strings.Contains(full.stdout, want) {
				t.Errorf("mode full build seen with mode full: want %q", strings.TrimSpace(want))
			}
		}
		epExportedXattr(t, tag)
	}
}

// epRequireUntouchedLog fails t when container id, run without the
// annotation, left a remainroot log.
func epRequireUntouchedLog(t *testing.T, id string) {
	t.Helper()
	if p, _ := tracerLog(id); id != "" && p != "" {
		t.Errorf("container %s without the annotation has a remainroot log %s", id, p)
	}
}

// epExportedXattr saves image tag as an OCI layout (podman save) and logs
// whether its last layer's tar carries the user.rootlesscontainers of
// srv/f (a PAX record), which any registry push would publish too.
func epExportedXattr(t *testing.T, tag string) {
	dir := userTempDir(t)
	layout := filepath.Join(dir, "oci")
	if r := podman(t, 5*time.Minute, "save", "--format", "oci-dir", "-o", layout, tag); r.code != 0 {
		t.Fatalf("podman save failed\n%s", r)
	}
	var index struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	var manifest struct {
		Layers []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"layers"`
	}
	blob := func(d string) string {
		algo, hex, _ := strings.Cut(d, ":")
		return filepath.Join(layout, "blobs", algo, hex)
	}
	data, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil || json.Unmarshal(data, &index) != nil || len(index.Manifests) == 0 {
		t.Fatalf("%s/index.json: %v\n%s", layout, err, data)
	}
	if data, err = os.ReadFile(blob(index.Manifests[0].Digest)); err != nil || json.Unmarshal(data, &manifest) != nil || len(manifest.Layers) == 0 {
		t.Fatalf("manifest: %v\n%s", err, data)
	}
	last := manifest.Layers[len(manifest.Layers)-1]
	f, err := os.Open(blob(last.Digest))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rd io.Reader = f
	if strings.Contains(last.MediaType, "gzip") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		rd = zr
	}
	tr := tar.NewReader(rd)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			t.Errorf("the saved image's last layer (%s) has no srv/f", last.MediaType)
			return
		}
		if err != nil {
			t.Fatalf("read the saved layer: %v", err)
		}
		if strings.TrimPrefix(hdr.Name, "./") != "srv/f" {
			continue
		}
		v, ok := hdr.PAXRecords["SCHILY.xattr.user.rootlesscontainers"]
		owner := "none"
		if ok {
			owner, _ = fullDecodeOwner([]byte(v))
		}
		t.Logf("podman save of %s: srv/f in the last layer is %d:%d with user.rootlesscontainers %s", tag, hdr.Uid, hdr.Gid, owner)
		if hdr.Uid != 0 || hdr.Gid != 0 {
			t.Errorf("saved layer: srv/f owned by %d:%d, want 0:0 (the storage's real owner)", hdr.Uid, hdr.Gid)
		}
		if owner != "1000:0" {
			t.Errorf("saved layer: srv/f's user.rootlesscontainers is %s; podman save exports the storage's user xattrs, so want 1000:0 "+
				"(if this changed, update the README's note on mode full builds)", owner)
		}
		return
	}
}

// TestEveryProcessLifecycle: start, restart, stop and kill of annotated
// containers, ten execs, 20 containers at once (issue 8, point 4).
func TestEveryProcessLifecycle(t *testing.T) {
	bin := setup(t, "podman", "crun", "runc")
	h := epHooksFor(t, bin)
	for _, rt := range podmanRuntimes {
		for _, hook := range []bool{false, true} {
			t.Run(rt+"/"+hookName(hook)+"/start-restart-stop-kill", func(t *testing.T) { epLifecycle(t, h, rt, hook) })
			t.Run(rt+"/"+hookName(hook)+"/stop-ignored", func(t *testing.T) { epStopIgnored(t, h, rt, hook) })
			t.Run(rt+"/"+hookName(hook)+"/ten-execs", func(t *testing.T) { epTenExecs(t, h, rt, hook) })
		}
		for _, hook := range []bool{false, true} {
			t.Run(rt+"/"+hookName(hook)+"/20-at-once", func(t *testing.T) { epTwenty(t, h, rt, hook) })
		}
		t.Run(rt+"/hook/supervisor-killed", func(t *testing.T) { epSupervisorKilled(t, h, rt) })
	}
}

// epSu runs su to nobody in container id and checks the outcome: nobody's
// ids with remainroot, busybox's setgroups failure without.
func epSu(t *testing.T, h epHooks, id string, hook bool) {
	t.Helper()
	r := h.podman(t, time.Minute, "exec", id, "su", "-s", "/bin/sh", "nobody", "-c", "id")
	if hook {
		if r.code != 0 || strings.TrimSpace(r.stdout) != nobodyID {
			t.Errorf("exec su nobody: want nobody's ids\n%s\n%s", r, logReport(id))
		}
	} else if r.code == 0 || !strings.Contains(r.output(), "su: can't set groups: Operation not permitted") {
		t.Errorf("exec su nobody: want today's failure \"su: can't set groups\"\n%s", r)
	}
}

// epWaitState waits up to timeout for container id to reach state want.
func epWaitState(t *testing.T, id, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	st := containerState(t, id)
	for st != want && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		st = containerState(t, id)
	}
	return st
}

// epWaitReadyCount waits until container id has printed "ready" n times
// (once per start).
func epWaitReadyCount(t *testing.T, id string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := podman(t, time.Minute, "logs", id)
		if strings.Count(r.stdout, "ready") >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s did not print ready %d times within 20 s\n%s\n%s", id, n, r, logReport(id))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func epLifecycle(t *testing.T, h epHooks, rt string, hook bool) {
	mode := map[bool]string{true: "creds"}[hook]
	// PID 1 exits 7 on SIGTERM.
	id := h.epStart(t, rt, mode, []string{"--network=none"}, busyboxImage,
		"sh", "-c", `trap "exit 7" TERM; echo ready; sleep 1000 & wait $!`)
	sockets := map[string]bool{}
	supervised := func(t *testing.T) {
		if !hook {
			epRequireUntouched(t, id)
			return
		}
		s := epRequireSupervised(t, id)
		if sockets[s] {
			t.Errorf("container %s: the same supervisor socket %s after a new start", id, s)
		}
		sockets[s] = true
	}
	gone := func(t *testing.T) {
		for s := range sockets {
			epAssertGone(t, id, s)
		}
	}
	steps := []struct {
		name     string
		scenario string
		do       func(t *testing.T)
	}{
		{"run-exec", "run -d, exec su", func(t *testing.T) {
			epWaitReadyCount(t, id, 1)
			supervised(t)
			epSu(t, h, id, hook)
		}},
		{"stop", "podman stop -t 5 (SIGTERM handled): exit 7", func(t *testing.T) {
			s := h.podman(t, time.Minute, "stop", "-t", "5", id)
			if s.code != 0 || s.duration > 4*time.Second {
				t.Errorf("podman stop: want exit 0 well within the 5 s timeout\n%s\n%s", s, logReport(id))
			}
			if st := containerState(t, id); st != "exited 7" {
				t.Errorf("after stop: state %q, want \"exited 7\" (sh's TERM trap ran)\n%s", st, logReport(id))
			}
			gone(t)
		}},
		{"start-exec", "podman start of a stopped container, exec su", func(t *testing.T) {
			if r := h.podman(t, time.Minute, "start", id); r.code != 0 {
				t.Fatalf("podman start failed\n%s\n%s", r, logReport(id))
			}
			epWaitReadyCount(t, id, 2)
			supervised(t)
			epSu(t, h, id, hook)
		}},
		{"restart-exec", "podman restart -t 5, exec su", func(t *testing.T) {
			r := h.podman(t, time.Minute, "restart", "-t", "5", id)
			if r.code != 0 || r.duration > 10*time.Second {
				t.Fatalf("podman restart: want exit 0 within a few seconds\n%s\n%s", r, logReport(id))
			}
			epWaitReadyCount(t, id, 3)
			gone(t) // the supervisors of the earlier starts
			supervised(t)
			epSu(t, h, id, hook)
		}},
		{"kill", "podman kill: exit 137", func(t *testing.T) {
			k := h.podman(t, time.Minute, "kill", id)
			if k.code != 0 || k.duration > 5*time.Second {
				t.Errorf("podman kill: want exit 0 within a few seconds\n%s\n%s", k, logReport(id))
			}
			if st := epWaitState(t, id, "exited 137", 10*time.Second); st != "exited 137" {
				t.Errorf("after kill: state %q, want \"exited 137\"\n%s", st, logReport(id))
			}
			gone(t)
		}},
	}
	failed := false
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			record(t, "podman+"+rt, "lifecycle: "+s.scenario, hook)
			if failed {
				t.Fatal("an earlier step failed")
			}
			s.do(t)
			failed = t.Failed()
		})
	}
}

// epStopIgnored: PID 1 without a TERM handler ignores SIGTERM; podman
// stop -t 2 kills it after two seconds.
func epStopIgnored(t *testing.T, h epHooks, rt string, hook bool) {
	record(t, "podman+"+rt, "lifecycle: podman stop -t 2 (SIGTERM ignored): exit 137", hook)
	mode := map[bool]string{true: "creds"}[hook]
	id := h.epStart(t, rt, mode, []string{"--network=none"}, busyboxImage, "sleep", "1000")
	socket := ""
	if hook {
		socket = epRequireSupervised(t, id)
	}
	// `podman run -d` returns once the runtime has started the container,
	// which may be before its init (runc's, a Go program) has exec'd the
	// command: a SIGTERM then ends that Go program, PID 1 of its
	// namespace, with status 2 (seen once under saturation, without
	// remainroot). The stop is for the command.
	epWaitInitIs(t, id, "sleep", 20*time.Second)
	s := h.podman(t, time.Minute, "stop", "-t", "2", id)
	t.Logf("podman stop took %s", s.duration.Round(time.Millisecond))
	if s.code != 0 || s.duration < 2*time.Second || s.duration > 6*time.Second {
		t.Errorf("podman stop: want exit 0 after the 2 s timeout\n%s\n%s", s, logReport(id))
	}
	if st := containerState(t, id); st != "exited 137" {
		t.Errorf("after stop: state %q, want \"exited 137\"\n%s", st, logReport(id))
	}
	if hook {
		epAssertGone(t, id, socket)
	}
}

// epTenExecs: ten execs into a container that then ends on its own; no
// remainroot process or socket is left for it.
func epTenExecs(t *testing.T, h epHooks, rt string, hook bool) {
	record(t, "podman+"+rt, "lifecycle: 10 execs, container ends, nothing left", hook)
	mode := map[bool]string{true: "creds"}[hook]
	id := h.epStart(t, rt, mode, []string{"--network=none"}, busyboxImage,
		"sh", "-c", `while [ ! -e /tmp/end ]; do sleep 0.1; done; exit 3`)
	socket := ""
	if hook {
		socket = epRequireSupervised(t, id)
	}
	for i := 0; i < 10; i++ {
		epSu(t, h, id, hook)
		if t.Failed() {
			t.FailNow()
		}
	}
	if r := h.podman(t, time.Minute, "exec", id, "touch", "/tmp/end"); r.code != 0 {
		t.Fatalf("exec touch /tmp/end failed\n%s\n%s", r, logReport(id))
	}
	if st := epWaitState(t, id, "exited 3", 20*time.Second); st != "exited 3" {
		t.Fatalf("state %q, want \"exited 3\"\n%s", st, logReport(id))
	}
	if !hook {
		epRequireUntouched(t, id)
		return
	}
	epAssertGone(t, id, socket)
	_, log := tracerLog(id)
	n := 0
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "msg=attached") && strings.Contains(l, "session=exec") {
			n++
		}
	}
	if n != 11 {
		t.Errorf("the supervisor's log shows %d execs attached, want 11 (ten su, one touch)\n%s", n, logReport(id))
	}
}

// epTwenty: 20 busybox containers at once, each with one exec (su to
// nobody, at once too); with remainroot all work, and afterwards none of
// their supervisors is left; without it each exec fails as today.
func epTwenty(t *testing.T, h epHooks, rt string, hook bool) {
	record(t, "podman+"+rt, "lifecycle: 20 containers at once, an exec each, nothing left", hook)
	const n = 20
	mode := map[bool]string{true: "creds"}[hook]
	ids := make([]string, n)
	starts := make([]result, n)
	execs := make([]result, n)
	var wg sync.WaitGroup
	each := func(f func(i int)) {
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) { defer wg.Done(); f(i) }(i)
		}
		wg.Wait()
	}
	begin := time.Now()
	each(func(i int) {
		args := append([]string{"run", "-d", "--runtime", rt, "--network=none"}, epAnnotations(mode)...)
		starts[i] = h.podman(t, 3*time.Minute, append(args, busyboxImage, "sleep", "1000")...)
		lines := strings.Split(strings.TrimSpace(starts[i].stdout), "\n")
		ids[i] = strings.TrimSpace(lines[len(lines)-1])
	})
	for _, id := range ids {
		epRemoveLogAfter(t, id)
	}
	t.Cleanup(func() {
		podman(t, 2*time.Minute, append([]string{"rm", "-f", "-t", "0"}, ids...)...)
	})
	for i, r := range starts {
		if r.code != 0 || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(ids[i]) {
			t.Fatalf("container %d: podman run -d failed\n%s", i, r)
		}
	}
	t.Logf("%d containers started in %s", n, time.Since(begin).Round(time.Millisecond))
	sockets := make([]string, n)
	for i, id := range ids {
		if hook {
			sockets[i] = epRequireSupervised(t, id)
		} else {
			epRequireUntouched(t, id)
		}
	}
	begin = time.Now()
	each(func(i int) {
		execs[i] = h.podman(t, 3*time.Minute, "exec", ids[i], "su", "-s", "/bin/sh", "nobody", "-c", "id")
	})
	t.Logf("%d execs in %s", n, time.Since(begin).Round(time.Millisecond))
	for i, r := range execs {
		if !hook {
			if r.code == 0 || !strings.Contains(r.output(), "su: can't set groups: Operation not permitted") {
				t.Errorf("container %d: exec su nobody: want today's failure \"su: can't set groups\"\n%s", i, r)
			}
			continue
		}
		if r.code != 0 || strings.TrimSpace(r.stdout) != nobodyID {
			t.Errorf("container %d: exec su nobody: want nobody's ids\n%s\n%s", i, r, logReport(ids[i]))
		}
	}
	if r := removeContainers(t, podman, 2*time.Minute, ids...); r.code != 0 {
		t.Errorf("podman rm failed\n%s", r)
	}
	if hook {
		for i, id := range ids {
			epAssertGone(t, id, sockets[i])
		}
	}
}

// epSupervisorKilled: when a container's supervisor dies (SIGKILL), the
// next podman exec ends at once with a one-line error (the runtime cannot
// reach the socket), never hangs. An attached process dies with the
// supervisor (PTRACE_O_EXITKILL); this init (mode creds, credentials never
// diverged) is not attached and lives on, with the kernel's own answers
// from the fallback answerer (README, "When a process is attached").
func epSupervisorKilled(t *testing.T, h epHooks, rt string) {
	record(t, "podman+"+rt, "lifecycle: supervisor killed: next exec fails at once, one line", true)
	id := h.epStart(t, rt, "creds", []string{"--network=none"}, busyboxImage, "sleep", "1000")
	socket := epRequireSupervised(t, id)
	sups := epSupervisorOn(socket)
	// A killed supervisor cannot remove its socket.
	t.Cleanup(func() { os.Remove(socket) })
	if err := syscall.Kill(sups[0].pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill supervisor %d: %v", sups[0].pid, err)
	}
	time.Sleep(500 * time.Millisecond)
	epExecFailsAtOnce(t, h, id)
}

// epExecFailsAtOnce checks that podman exec into container id, whose
// supervisor was killed, fails within 10 s with one line on stderr.
func epExecFailsAtOnce(t *testing.T, h epHooks, id string) {
	t.Helper()
	r := h.podman(t, time.Minute, "exec", id, "id")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code == 0 || r.duration > 10*time.Second || len(lines) != 1 || lines[0] == "" {
		t.Errorf("exec after the supervisor died: want a non-zero exit within 10 s and one line on stderr\n%s", r)
	}
	t.Logf("exec after the supervisor died (%s): %s; container state: %s", r.duration.Round(time.Millisecond),
		strings.TrimSpace(r.stderr), containerState(t, id))
}
