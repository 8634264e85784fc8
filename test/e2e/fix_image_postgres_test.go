package e2e

// Issue 18, point 3: on a normal host the image remainroot build made
// behaves as if root had built it. PostgreSQL is installed and its
// cluster made in RUN steps; under root podman with every id, the server
// starts on that cluster in the fixed image and refuses it in today's.

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// fixImagePostgresData is the cluster the build makes.
const fixImagePostgresData = "/var/lib/postgresql/data"

// fixImagePostgresContainerfile installs PostgreSQL (over the host's
// network) and makes a cluster as postgres.
const fixImagePostgresContainerfile = `FROM ` + debianImage + `
RUN apt-get update && apt-get install -y --no-install-recommends postgresql
RUN su postgres -c '/usr/lib/postgresql/15/bin/initdb -D ` + fixImagePostgresData + `'
`

// fixImagePostgresStart starts the server on the cluster as postgres
// (Unix socket in /tmp, no TCP) and queries it.
const fixImagePostgresStart = `su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D ` + fixImagePostgresData +
	` -o \"-c listen_addresses='' -k /tmp\" -l /tmp/pg.log -w -t 60 start && /usr/lib/postgresql/15/bin/psql -h /tmp -c 'select 1'"; rc=$?; cat /tmp/pg.log >&2; exit $rc`

// fixImagePostgresRow is psql's answer to select 1.
var fixImagePostgresRow = regexp.MustCompile(`(?m)^\s+1\n\(1 row\)`)

func TestFixImagePostgres(t *testing.T) {
	start := time.Now()
	bin, hooks, ctx := fullBuildContext(t, fixImagePostgresContainerfile)
	name := "localhost/rr-e2e-fiximage-pg-" + randomID(4)
	fixedTag, plainTag := name+":fixed", name+":plain"
	t.Cleanup(func() { podman(t, 2*time.Minute, "rmi", "-f", fixedTag, plainTag) })
	buildArgs := []string{"--no-cache", "--runtime", "crun", "--network=host"}

	remainrootBuild(t, bin, hooks, buildArgs, fixedTag, ctx)
	fullHooksPodmanBuild(t, hooks, buildArgs, plainTag, ctx)

	root := newRootPodmanStore(t)
	for _, c := range []struct {
		image string
		works bool
	}{{fixedTag, true}, {plainTag, false}} {
		root.loadFromUser(t, c.image)
		r := root.runImage(t, c.image, "sh", "-c", "stat -c '%U:%G %a %n' "+fixImagePostgresData+" "+fixImagePostgresData+"/PG_VERSION; "+fixImagePostgresStart)
		switch {
		case c.works && (r.code != 0 || !fixImagePostgresRow.MatchString(r.stdout) ||
			!strings.Contains(r.stdout, "postgres:postgres 700 "+fixImagePostgresData+"\n")):
			t.Errorf("root podman run %s (remainroot build): want the cluster owned by postgres, the server to start and psql to answer 1\n%s", c.image, r)
		case !c.works && (r.code == 0 || fixImagePostgresRow.MatchString(r.stdout) ||
			!regexp.MustCompile(`Permission denied|wrong ownership`).MatchString(r.output())):
			t.Errorf("root podman run %s (podman build today): want pg_ctl start to fail (Permission denied or wrong ownership)\n%s", c.image, r)
		default:
			t.Logf("root podman run %s: exit %d\n%s", c.image, r.code, strings.TrimSpace(r.output()))
		}
	}
	t.Logf("TestFixImagePostgres took %s (two builds with apt-get install postgresql)", time.Since(start).Round(time.Second))
}
