package hook

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSweepStaleSockets(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * staleAge)
	// A live supervisor's: locked.
	live := filepath.Join(dir, "sup-live.sock")
	l, err := lockSocket(live)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	os.WriteFile(live, nil, 0o600)
	// A killed one's: lock file without a lock.
	dead := filepath.Join(dir, "sup-dead.sock")
	os.WriteFile(dead, nil, 0o600)
	os.WriteFile(dead+".lock", nil, 0o600)
	// One that is starting: too young to judge.
	young := filepath.Join(dir, "sup-young.sock")
	os.WriteFile(young, nil, 0o600)
	os.WriteFile(young+".lock", nil, 0o600)
	for _, p := range []string{live + ".lock", dead + ".lock"} {
		os.Chtimes(p, old, old)
	}
	sweepStaleSockets(dir)
	for p, want := range map[string]bool{live: true, live + ".lock": true, dead: false, dead + ".lock": false, young: true, young + ".lock": true} {
		if _, err := os.Lstat(p); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
	// A second lock on a live socket fails.
	if _, err := lockSocket(live); err == nil {
		t.Error("a second supervisor could take a live socket's lock")
	}
}
