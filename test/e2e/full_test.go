package e2e

// Mode full (io.remainroot.mode=full) with rootless podman in a single
// mapping, under crun and runc: PostgreSQL's initdb and server (which
// refuse a data directory their user does not own), a tar --same-owner
// round trip of a tree with many owners, install -o/-g and chown -R,
// owners surviving a container restart, and interoperation with umoci
// --rootless (which reads and writes the same user.rootlesscontainers
// xattr). Where it shows something, the same runs in mode creds, which
// records no owners.
//
// Run as root: go test -count=1 -v -run TestFull ./test/e2e/

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// fullScenario names a scenario in the compatibility table; mode creds
// rows pass when they reproduce the failure that mode full fixes.
func fullScenario(mode, what string) string {
	if mode == "creds" {
		return "mode creds (must fail: no owners recorded): " + what
	}
	return "mode full: " + what
}

// fullModes are the (runtime, mode) pairs most scenarios run in: mode full
// under both runtimes, and mode creds under crun to show what full fixes.
var fullModes = []struct{ runtime, mode string }{
	{"crun", "full"},
	{"runc", "full"},
	{"crun", "creds"},
}

// fullPostgresScript installs PostgreSQL, then as postgres runs initdb,
// starts the server on a Unix socket in /tmp and queries it.
const fullPostgresScript = scriptLib + `
pg_install() {
	apt-get update -q >/tmp/apt.log 2>&1 &&
		apt-get install -y -q --no-install-recommends postgresql >>/tmp/apt.log 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then cat /tmp/apt.log; else tail -n 5 /tmp/apt.log; fi
	return $rc
}
pg_initdb() {
	bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | head -n 1)
	[ -x "$bin/initdb" ] || { echo "no initdb under /usr/lib/postgresql/*/bin"; return 9; }
	echo "pg-ids $(id -u postgres):$(id -g postgres)"
	mkdir -p /var/lib/postgresql/data
	chown postgres:postgres /var/lib/postgresql/data
	own /var/lib/postgresql/data
	su postgres -s /bin/sh -c "$bin/initdb -D /var/lib/postgresql/data"
	rc=$?
	[ -e /var/lib/postgresql/data/PG_VERSION ] && own /var/lib/postgresql/data/PG_VERSION
	return $rc
}
pg_start() {
	su postgres -s /bin/sh -c "$bin/pg_ctl -D /var/lib/postgresql/data -o \"-c listen_addresses='' -k /tmp\" -l /tmp/pg.log -w -t 60 start"
	rc=$?
	echo "--- server log"; cat /tmp/pg.log; echo "---"
	return $rc
}
pg_query() {
	su postgres -s /bin/sh -c "psql -h /tmp -c 'select 1'"
}
pg_stop() {
	su postgres -s /bin/sh -c "$bin/pg_ctl -D /var/lib/postgresql/data -m fast -w -t 30 stop"
}
section install pg_install
section initdb pg_initdb
section start pg_start
section query pg_query
section stop pg_stop
`

func TestFullPostgres(t *testing.T) {
	bin := setup(t, "podman", "crun", "runc")
	for _, m := range fullModes {
		t.Run(m.runtime+"/"+m.mode, func(t *testing.T) {
			record(t, "podman+"+m.runtime, fullScenario(m.mode, "postgresql initdb+start+query"), true)
			r, id := fullRun(t, bin, m.mode, container{runtime: m.runtime, image: debianImage, timeout: 8 * time.Minute},
				fullPostgresScript)
			t.Logf("container run took %s", r.duration.Round(time.Millisecond))
			secs := sections(r.stdout)
			report := func() string { return r.String() + "\n" + logReport(id) }
			inst := secs["install"]
			if !inst.ok || inst.rc != 0 {
				if regexp.MustCompile(`Temporary failure resolving|Could not resolve|Failed to fetch|Unable to connect`).MatchString(inst.out) {
					t.Errorf("apt-get install postgresql: the output shows a network problem (--network=host)")
				}
				t.Fatalf("apt-get install postgresql failed\n%s", report())
			}
			for _, s := range []string{"install", "initdb", "start", "query", "stop"} {
				t.Logf("section %s: exit %d, %d ms", s, secs[s].rc, secs[s].ms)
			}
			initdb := secs["initdb"]
			if m.mode == "full" {
				ids := strings.Join(fullFields(initdb.out, "pg-ids"), "")
				if ids == "" || ids == "0:0" {
					t.Errorf("postgres user's ids not printed or 0:0: %q", ids)
				}
				if d := fullCheckOwners(initdb.out, map[string]string{
					"/var/lib/postgresql/data":            ids,
					"/var/lib/postgresql/data/PG_VERSION": ids,
				}); len(d) > 0 {
					t.Errorf("data directory owners:\n%s", strings.Join(d, "\n"))
				}
				if initdb.rc != 0 || !strings.Contains(initdb.out, "Success.") {
					t.Errorf("initdb: want success, got exit %d", initdb.rc)
				}
				if secs["start"].rc != 0 || !strings.Contains(secs["start"].out, "server started") {
					t.Errorf("pg_ctl start: want \"server started\", got exit %d", secs["start"].rc)
				}
				q := secs["query"]
				if q.rc != 0 || !regexp.MustCompile(`(?m)^\s+1\n\(1 row\)`).MatchString(q.out) {
					t.Errorf("psql -c 'select 1': want one row holding 1, got exit %d:\n%s", q.rc, q.out)
				}
				if secs["stop"].rc != 0 {
					t.Errorf("pg_ctl stop exited %d", secs["stop"].rc)
				}
				if strings.Contains(r.stdout, "wrong ownership") {
					t.Errorf("output mentions \"wrong ownership\"")
				}
				if t.Failed() {
					t.Logf("%s", report())
				}
				assertNoTracer(t, id)
				return
			}
			// Mode creds: chown succeeds but records nothing, so the data
			// directory still belongs to root and PostgreSQL refuses it.
			const want = `data directory "/var/lib/postgresql/data" has wrong ownership`
			if initdb.rc == 0 || !strings.Contains(initdb.out, want) {
				t.Errorf("mode creds: want initdb to fail with %q\n%s", want, report())
			}
			if strings.Contains(secs["query"].out, "(1 row)") {
				t.Errorf("mode creds: psql answered, want no server\n%s", report())
			}
			for _, l := range strings.Split(initdb.out, "\n") {
				if strings.Contains(l, "wrong ownership") || strings.Contains(l, "HINT") {
					t.Logf("mode creds, as expected: %s", strings.TrimSpace(l))
				}
			}
		})
	}
}

// fullFields returns the rest of each line of out that starts with key and
// a space.
func fullFields(out, key string) []string {
	var v []string
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, key+" "); ok {
			v = append(v, strings.TrimSpace(rest))
		}
	}
	return v
}

// fullTarScript makes a tree with many owners (files, set-id bits, a
// symlink, a FIFO, a hard link, nested directories), archives it with
// --numeric-owner, extracts it as root with --same-owner elsewhere,
// archives that copy and lists both archives.
const fullTarScript = scriptLib + `
tar_tree() (
	set -e
	mkdir -p /rt/tree/sub/deeper
	cd /rt
	i=0
	for spec in 1000:1000 1001:2002 65534:65534 42:0 0:43 7:8 100000:100001; do
		i=$((i+1))
		echo "file $i" > tree/f$i
		chown $spec tree/f$i
	done
	chmod 4755 tree/f2
	chmod 2750 tree/f3
	echo x > tree/sub/deeper/x
	chown 700:701 tree/sub/deeper/x
	chown 600:601 tree/sub/deeper
	chown 500:501 tree/sub
	ln -s f1 tree/link
	chown -h 800:801 tree/link
	mkfifo tree/fifo
	chown 900:901 tree/fifo
	ln tree/f6 tree/hardlink
	chown 300:301 tree
)
section tree tar_tree
section create sh -c 'cd /rt && tar --sort=name --numeric-owner -cpf a.tar tree'
section extract sh -c 'mkdir -p /rt/x && cd /rt/x && tar --same-owner --numeric-owner -xpf ../a.tar'
section recreate sh -c 'cd /rt/x && tar --sort=name --numeric-owner -cpf ../b.tar tree'
section list-a tar --numeric-owner -tvf /rt/a.tar
section list-b tar --numeric-owner -tvf /rt/b.tar
section extracted own /rt/x/tree /rt/x/tree/f2 /rt/x/tree/f7 /rt/x/tree/link /rt/x/tree/fifo /rt/x/tree/sub/deeper/x
`

func TestFullTarRoundTrip(t *testing.T) {
	bin := setup(t, "podman", "crun", "runc")
	want := map[string]string{
		"tree/":             "drwxr-xr-x 300/301",
		"tree/f1":           "-rw-r--r-- 1000/1000",
		"tree/f2":           "-rwsr-xr-x 1001/2002",
		"tree/f3":           "-rwxr-s--- 65534/65534",
		"tree/f4":           "-rw-r--r-- 42/0",
		"tree/f5":           "-rw-r--r-- 0/43",
		"tree/f6":           "-rw-r--r-- 7/8",
		"tree/f7":           "-rw-r--r-- 100000/100001",
		"tree/hardlink":     "7/8",
		"tree/link":         "lrwxrwxrwx 800/801",
		"tree/fifo":         "prw-r--r-- 900/901",
		"tree/sub/":         "drwxr-xr-x 500/501",
		"tree/sub/deeper/":  "drwxr-xr-x 600/601",
		"tree/sub/deeper/x": "-rw-r--r-- 700/701",
	}
	for _, m := range fullModes {
		t.Run(m.runtime+"/"+m.mode, func(t *testing.T) {
			record(t, "podman+"+m.runtime, fullScenario(m.mode, "tar --same-owner round trip"), true)
			r, id := fullRun(t, bin, m.mode, container{runtime: m.runtime, image: debianImage}, fullTarScript)
			secs := sections(r.stdout)
			report := func() string { return r.String() + "\n" + logReport(id) }
			for _, s := range []string{"tree", "create", "extract", "recreate", "list-a", "list-b", "extracted"} {
				if sec, ok := secs[s]; !ok || sec.rc != 0 {
					t.Fatalf("step %s failed (exit %d)\n%s", s, sec.rc, report())
				}
			}
			a, b := secs["list-a"].out, secs["list-b"].out
			entries := fullTarEntries(a)
			if m.mode == "creds" {
				// Nothing recorded: the archive says root everywhere.
				if got := entries["tree/f2"]; !strings.HasSuffix(got, " 0/0") {
					t.Errorf("mode creds: tree/f2 archived as %q, want owner 0/0 (creds records no owners)\n%s", got, report())
				} else {
					t.Logf("mode creds, as expected: every owner lost, tree/f2 archived as %q", got)
				}
				return
			}
			if d := fullCheckTar(entries, want); len(d) > 0 {
				t.Errorf("first archive (tar -cpf of the chowned tree):\n%s\n%s", strings.Join(d, "\n"), report())
			}
			if a != b {
				t.Errorf("tar -tvf listings differ after the --same-owner round trip\nfirst:\n%s\nsecond:\n%s\n%s", a, b, logReport(id))
			}
			if d := fullCheckOwners(secs["extracted"].out, map[string]string{
				"/rt/x/tree": "300:301", "/rt/x/tree/f2": "1001:2002", "/rt/x/tree/f7": "100000:100001",
				"/rt/x/tree/link": "800:801", "/rt/x/tree/fifo": "900:901", "/rt/x/tree/sub/deeper/x": "700:701",
			}); len(d) > 0 {
				t.Errorf("extracted tree, ls -ln:\n%s\n%s", strings.Join(d, "\n"), report())
			}
			t.Logf("archive listing (identical before and after the round trip):\n%s", a)
			assertNoTracer(t, id)
		})
	}
}

// fullInstallScript uses install -o/-g and chown -R, then lists owners.
const fullInstallScript = `
set -e
mkdir -p /it
install -o 1234 -g 5678 -m 0750 /etc/hostname /it/file
install -d -o 10 -g 20 /it/dir
install -o www-data -g www-data -m 0644 /etc/hostname /it/named
mkdir -p /cr/a/b
touch /cr/a/f /cr/a/b/g
ln -s f /cr/a/l
mkfifo /cr/a/p
chown -R 42:43 /cr
ls -ln /it
ls -lnR /cr
own /it/file /it/dir /it/named /cr /cr/a /cr/a/b /cr/a/f /cr/a/b/g /cr/a/l /cr/a/p
echo "mode $(stat -c %a /it/file)"
`

func TestFullInstallChown(t *testing.T) {
	bin := setup(t, "podman", "crun", "runc")
	want := map[string]string{
		"/it/file": "1234:5678", "/it/dir": "10:20", "/it/named": "33:33",
		"/cr": "42:43", "/cr/a": "42:43", "/cr/a/b": "42:43", "/cr/a/f": "42:43",
		"/cr/a/b/g": "42:43", "/cr/a/l": "42:43", "/cr/a/p": "42:43",
	}
	for _, m := range fullModes {
		t.Run(m.runtime+"/"+m.mode, func(t *testing.T) {
			record(t, "podman+"+m.runtime, fullScenario(m.mode, "install -o -g, chown -R"), true)
			r, id := fullRun(t, bin, m.mode, container{runtime: m.runtime, image: debianImage}, fullInstallScript)
			if r.code != 0 {
				t.Fatalf("script failed\n%s\n%s", r, logReport(id))
			}
			if m.mode == "creds" {
				if got := fullOwners(r.stdout)["/it/file"]; got != "0:0" {
					t.Errorf("mode creds: /it/file owned by %q, want 0:0 (creds records no owners)\n%s", got, r)
				} else {
					t.Logf("mode creds, as expected: install -o 1234 -g 5678 leaves %s", got)
				}
				return
			}
			if d := fullCheckOwners(r.stdout, want); len(d) > 0 {
				t.Errorf("ls -ln:\n%s\n%s\n%s", strings.Join(d, "\n"), r, logReport(id))
			}
			if !strings.Contains(r.stdout, "mode 750\n") {
				t.Errorf("install -m 0750: mode not 750\n%s", r)
			}
			assertNoTracer(t, id)
		})
	}
}

// fullRestartScript chowns on its first run (no /marker yet) and only
// lists on the second.
const fullRestartScript = `
if [ -e /marker ]; then
	echo second-run
else
	echo first-run
	mkdir /data
	echo x > /data/f
	chown 1234:5678 /data/f
	mkdir /data/d
	chown 42:43 /data/d
	ln -s f /data/l
	chown -h 7:8 /data/l
	touch /marker
fi
own /data/f /data/d /data/l
`

func TestFullRestart(t *testing.T) {
	bin := setup(t, "podman", "crun", "runc")
	for _, m := range fullModes {
		t.Run(m.runtime+"/"+m.mode, func(t *testing.T) {
			record(t, "podman+"+m.runtime, fullScenario(m.mode, "owners survive a restart"), true)
			name := "rr-e2e-full-restart-" + randomID(4)
			t.Cleanup(func() { podman(t, time.Minute, "rm", "-f", "-t", "0", name) })
			first, id := fullRun(t, bin, m.mode, container{runtime: m.runtime, image: busyboxImage, keep: true},
				fullRestartScript, "--name", name)
			if first.code != 0 || !strings.Contains(first.stdout, "first-run") {
				t.Fatalf("first run: want exit 0 and first-run\n%s\n%s", first, logReport(id))
			}
			second := podman(t, 2*time.Minute, append(installedHooksArgs(t, bin), "start", "-a", name)...)
			out := second.stdout
			if second.code == 0 && !strings.Contains(out, "second-run") {
				// podman start -a can lose a short container's output as
				// podman run does: read it from the container's log.
				logs := podman(t, time.Minute, "logs", name)
				if i := strings.LastIndex(logs.stdout, "second-run"); i >= 0 {
					t.Logf("podman start -a printed nothing; taking the output from podman logs")
					out = logs.stdout[i:]
				}
			}
			if second.code != 0 || !strings.Contains(out, "second-run") {
				t.Fatalf("podman start -a: want exit 0 and second-run\n%s\n%s", second, logReport(id))
			}
			firstOwners := map[string]string{"/data/f": "1234:5678", "/data/d": "42:43", "/data/l": "7:8"}
			// Files and directories keep their owner in the xattr; a
			// symlink's owner lives in memory only and is lost (the
			// documented limit).
			secondOwners := map[string]string{"/data/f": "1234:5678", "/data/d": "42:43", "/data/l": "0:0"}
			if m.mode == "creds" {
				firstOwners = map[string]string{"/data/f": "0:0", "/data/d": "0:0", "/data/l": "0:0"}
				secondOwners = firstOwners
			}
			if d := fullCheckOwners(first.stdout, firstOwners); len(d) > 0 {
				t.Errorf("first run:\n%s\n%s\n%s", strings.Join(d, "\n"), first, logReport(id))
			}
			if d := fullCheckOwners(out, secondOwners); len(d) > 0 {
				t.Errorf("after the restart:\n%s\n%s\n%s", strings.Join(d, "\n"), second, logReport(id))
			}
			t.Logf("after the restart (mode %s):\n%s", m.mode, out)
			if m.mode == "full" {
				assertNoTracer(t, id)
			}
		})
	}
}

// TestFullUmoci: an OCI image made with umoci holding files of several
// owners, unpacked --rootless by the test user (umoci writes the owners
// into user.rootlesscontainers), shows those owners in a container
// started from the bundle's rootfs; a chown inside is recorded where
// `umoci repack` finds it, and the new layer carries the new owners.
func TestFullUmoci(t *testing.T) {
	bin := setup(t, "podman", "crun", "umoci")
	record(t, "podman+crun", "mode full: umoci --rootless interop", true)
	src := filepath.Join(cacheDir, "busybox")
	_, err := os.Stat(filepath.Join(src, "bin", "busybox"))
	testenv.Need(t, err == nil, "%s is missing (run test/setup-env.sh)", src)
	uid, gid, _ := testUser(t)

	// As host root: an image whose one layer has real owners.
	dir := userTempDir(t)
	layout := filepath.Join(dir, "layout")
	tree := filepath.Join(dir, "src")
	fullMust(t, dir, "umoci", "init", "--layout", layout)
	fullMust(t, dir, "umoci", "new", "--image", layout+":t")
	fullMust(t, dir, "cp", "-a", src, tree)
	fullMust(t, dir, "mkdir", "-p", filepath.Join(tree, "data", "sub"))
	for _, f := range []struct{ path, owner string }{
		{"data/f1", "1001:2001"}, {"data/f2", "65534:65534"}, {"data/sub/g", "7:8"},
	} {
		writeUserFile(t, filepath.Join(tree, f.path), f.path+"\n")
		fullMust(t, dir, "chown", f.owner, filepath.Join(tree, f.path))
	}
	fullMust(t, dir, "chown", "42:43", filepath.Join(tree, "data", "sub"))
	fullMust(t, dir, "umoci", "insert", "--image", layout+":t", tree, "/")
	fullMust(t, dir, "rm", "-rf", tree)
	fullMust(t, dir, "chown", "-R", strconv.Itoa(uid)+":"+strconv.Itoa(gid), layout)

	// As the test user: unpack rootless.
	if r := fullAsUser(t, dir, 2*time.Minute, "umoci", "unpack", "--rootless", "--image", "layout:t", "bundle"); r.code != 0 {
		t.Fatalf("umoci unpack --rootless as the test user failed\n%s", r)
	}
	rootfs := filepath.Join(dir, "bundle", "rootfs")
	unpacked := map[string]string{"data/f1": "1001:2001", "data/f2": "65534:65534", "data/sub": "42:43", "data/sub/g": "7:8", "data": "none"}
	for p, w := range unpacked {
		if got := fullRecorded(t, filepath.Join(rootfs, p)); got != w {
			t.Errorf("umoci unpack --rootless: %s records %s, want %s", p, got, w)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	inside := map[string]string{"/data": "0:0", "/data/f1": "1001:2001", "/data/f2": "65534:65534", "/data/sub": "42:43", "/data/sub/g": "7:8"}

	t.Run("creds", func(t *testing.T) {
		r, id := fullRun(t, bin, "creds", container{runtime: "crun", image: rootfs},
			`own /data /data/f1 /data/f2 /data/sub /data/sub/g`, "--rootfs")
		if r.code != 0 {
			t.Fatalf("container failed\n%s\n%s", r, logReport(id))
		}
		if got := fullOwners(r.stdout)["/data/f1"]; got != "0:0" {
			t.Errorf("mode creds: /data/f1 shows %q, want 0:0 (creds does not read the xattr)\n%s", got, r)
		} else {
			t.Logf("mode creds, as expected: umoci's owners invisible (/data/f1 shows %s)", got)
		}
	})

	t.Run("full", func(t *testing.T) {
		r, id := fullRun(t, bin, "full", container{runtime: "crun", image: rootfs}, `
set -e
own /data /data/f1 /data/f2 /data/sub /data/sub/g | sed 's/^own /before /'
chown 4321:8765 /data/f1
chown -R 11:12 /data/sub
echo new > /data/new
chown 99:98 /data/new
ls -lnR /data
own /data/f1 /data/f2 /data/sub /data/sub/g /data/new
`, "--rootfs")
		if r.code != 0 {
			t.Fatalf("container failed\n%s\n%s", r, logReport(id))
		}
		before := map[string]string{}
		for p, o := range inside {
			before[p] = o
		}
		var beforeOut strings.Builder
		for _, l := range strings.Split(r.stdout, "\n") {
			if rest, ok := strings.CutPrefix(l, "before "); ok {
				beforeOut.WriteString("own " + rest + "\n")
			}
		}
		if d := fullCheckOwners(beforeOut.String(), before); len(d) > 0 {
			t.Errorf("umoci's owners as the container sees them:\n%s\n%s\n%s", strings.Join(d, "\n"), r, logReport(id))
		}
		if d := fullCheckOwners(r.stdout, map[string]string{
			"/data/f1": "4321:8765", "/data/f2": "65534:65534", "/data/sub": "11:12",
			"/data/sub/g": "11:12", "/data/new": "99:98",
		}); len(d) > 0 {
			t.Errorf("after chown inside:\n%s\n%s\n%s", strings.Join(d, "\n"), r, logReport(id))
		}
		assertNoTracer(t, id)
		if t.Failed() {
			t.FailNow()
		}

		// As the test user: repack; the new layer records the new owners.
		if rr := fullAsUser(t, dir, 2*time.Minute, "umoci", "repack", "--image", "layout:t2", "bundle"); rr.code != 0 {
			t.Fatalf("umoci repack as the test user failed\n%s", rr)
		}
		layer := fullLayer(t, layout, "t2")
		lr := run(t, exec.Command("tar", "-tzvf", layer, "--numeric-owner"), time.Minute)
		if lr.code != 0 {
			t.Fatalf("listing the new layer failed\n%s", lr)
		}
		t.Logf("new layer %s:\n%s", filepath.Base(layer), lr.stdout)
		entries := fullTarEntries(lr.stdout)
		if d := fullCheckTar(entries, map[string]string{
			"data/f1": "4321/8765", "data/new": "99/98", "data/sub/": "11/12", "data/sub/g": "11/12",
		}); len(d) > 0 {
			t.Errorf("umoci repack's layer:\n%s\n%s", strings.Join(d, "\n"), lr.stdout)
		}
		if _, ok := entries["data/f2"]; ok {
			t.Errorf("umoci repack's layer holds data/f2, which did not change")
		}

		// And back: unpacking the new image records the new owners.
		if rr := fullAsUser(t, dir, 2*time.Minute, "umoci", "unpack", "--rootless", "--image", "layout:t2", "bundle2"); rr.code != 0 {
			t.Fatalf("umoci unpack --rootless of t2 failed\n%s", rr)
		}
		for p, w := range map[string]string{"data/f1": "4321:8765", "data/new": "99:98", "data/sub": "11:12", "data/f2": "65534:65534"} {
			if got := fullRecorded(t, filepath.Join(dir, "bundle2", "rootfs", p)); got != w {
				t.Errorf("unpacked t2: %s records %s, want %s", p, got, w)
			}
		}
	})
}
