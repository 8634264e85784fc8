package e2e

import (
	"strings"
	"testing"
	"time"
)

// podmanCommand runs podman (as the test user, with hooks, or as root on
// a storage of a test's own) and returns what it printed.
type podmanCommand func(t testing.TB, timeout time.Duration, args ...string) result

// removeContainers runs `podman rm -f -t 0 IDS` with pm. podman 4.3's rm
// can fail with "unlinkat .../userdata/shm: device or resource busy" when
// conmon's cleanup of a container it just killed races it (podman's flake
// #11594, fixed after 4.3, seen here under load with --uidmap); a second
// `rm -f` removes the container, as it would for a user (-f also removes a
// container only the storage still holds). So rm is repeated while it
// fails that way, for at most deadline; after such a failure, "no such
// container" means the other cleanup finished the job. It returns the last
// run's result, with code 0 when the containers are gone.
func removeContainers(t testing.TB, pm podmanCommand, deadline time.Duration, ids ...string) result {
	t.Helper()
	end := time.Now().Add(deadline)
	for again := false; ; again = true {
		r := pm(t, deadline, append([]string{"rm", "-f", "-t", "0"}, ids...)...)
		if r.code == 0 {
			return r
		}
		if again && strings.Contains(r.output(), "no such container") {
			r.code = 0
			return r
		}
		if !strings.Contains(r.output(), "device or resource busy") || time.Now().After(end) {
			return r
		}
		t.Logf("podman rm: busy, again: %s", strings.TrimSpace(r.stderr))
		time.Sleep(time.Second)
	}
}
