package e2e

// remainroot build's runtime wrapper (remainroot runtime): RUN steps after
// USER with an id the single mapping lacks, which buildah cannot start
// without a precreate hook.

import (
	"strings"
	"testing"
	"time"
)

const buildUserContainerfile = `FROM ` + debianImage + `
RUN useradd -m -u 1500 app && mkdir /data && chown app:app /data
USER app
RUN id && touch /data/by-app && mkdir /home/app/cache && stat -c 'owner=%u:%g %n' /data/by-app /home/app/cache
`

func TestBuildUserStep(t *testing.T) {
	bin, hooks, ctx := fullBuildContext(t, buildUserContainerfile)
	name := "localhost/rr-e2e-builduser-" + randomID(4)
	for _, rt := range []string{"crun", "runc"} {
		t.Run(rt, func(t *testing.T) {
			tag := name + ":" + rt
			var unfixed string
			t.Cleanup(func() {
				podman(t, 2*time.Minute, "rmi", "-f", tag)
				if unfixed != "" {
					podman(t, 2*time.Minute, "rmi", "-f", unfixed)
				}
			})
			// Today: the runtime cannot switch to 1500.
			r := podman(t, 10*time.Minute, "build", "--hooks-dir", hooks, "--layers=false", "--no-cache", "--runtime", rt, "--network=none", ctx)
			want := map[string]string{"crun": "cannot setresgid to 1500: Invalid argument", "runc": "invalid argument"}[rt]
			if r.code == 0 || !strings.Contains(r.output(), want) {
				t.Errorf("podman build --hooks-dir (mode full), USER app: want the runtime's %q\n%s", want, r)
			}
			r = run(t, asUser(t, bin, "build", "--build-hooks-dir", hooks, "--layers=false", "--no-cache", "--runtime", rt,
				"--network=none", "-t", tag, ctx), 10*time.Minute)
			if m := unfixedID.FindStringSubmatch(r.stderr); m != nil {
				unfixed = m[1]
			}
			for _, w := range []string{"uid=1500(app) gid=1500(app) groups=1500(app)", "owner=1500:1500 /data/by-app", "owner=1500:1500 /home/app/cache"} {
				if r.code != 0 || !strings.Contains(r.stdout, w) {
					t.Fatalf("remainroot build --runtime %s: want %q\n%s", rt, w, r)
				}
			}
			img := saveLayout(t, podman, tag)
			top := img.layers[len(img.layers)-1]
			for _, p := range []string{"data/by-app", "home/app/cache"} {
				if e := top[p]; e.owner != "1500:1500" || e.record {
					t.Errorf("fixed image: %s is %v, want 1500:1500 without a record", p, e)
				}
			}
		})
	}
}
