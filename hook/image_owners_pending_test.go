package hook

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/remainroot/remainroot/shim"
)

// fixedOwners is an owner source with one entry.
type fixedOwners struct{}

func (fixedOwners) ImageOwner(dev, ino uint64) (shim.FileOwner, bool) {
	return shim.FileOwner{UID: 1000, GID: 42}, dev == 1 && ino == 2
}

// syncBuffer is a log destination safe for several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestPendingOwnersWaitForARead(t *testing.T) {
	// A slow read: starting it does not wait for it, every caller of
	// Owners waits until it has ended and gets its whole result, and the
	// first caller's wait is logged once.
	var out syncBuffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	release := make(chan struct{})
	t0 := time.Now()
	p := startOwners(log, func() shim.OwnerSource {
		<-release
		return fixedOwners{}
	})
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("startOwners took %s: it waited for the read", d)
	}
	got := make(chan shim.OwnerSource, 3)
	for range 3 {
		go func() { got <- p.Owners() }()
	}
	select {
	case <-got:
		t.Fatal("Owners returned before the read ended")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	for range 3 {
		src := <-got
		if o, ok := src.ImageOwner(1, 2); !ok || o != (shim.FileOwner{UID: 1000, GID: 42}) {
			t.Errorf("owner of (1, 2): %v %v", o, ok)
		}
	}
	p.wait()
	p.Owners()
	if n := strings.Count(out.String(), `msg="image owners first needed"`); n != 1 {
		t.Errorf("%d lines of the first wait, want 1:\n%s", n, out.String())
	}
	m := strings.Fields(out.String()[strings.Index(out.String(), `msg="image owners first needed"`):])
	var waited time.Duration
	for _, f := range m {
		if v, ok := strings.CutPrefix(f, "waited="); ok {
			waited, _ = time.ParseDuration(v)
		}
	}
	if waited < 50*time.Millisecond {
		t.Errorf("first wait logged as %s, want at least the 100 ms the callers were held:\n%s", waited, out.String())
	}
}

func TestPendingOwnersUnreadable(t *testing.T) {
	// A bundle outside any store, read in the background: Owners gives
	// none, and the log says why once.
	bundle := t.TempDir()
	os.WriteFile(filepath.Join(bundle, "config.json"), []byte(`{"root":{"path":"rootfs"}}`), 0o600)
	var out syncBuffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	p := startImageOwners(log, bundle, "c1")
	if src := p.Owners(); src != nil {
		t.Errorf("owners %v, want none", src)
	}
	p.Owners()
	if n := strings.Count(out.String(), "image owners not used"); n != 1 {
		t.Errorf("%d lines saying why, want 1:\n%s", n, out.String())
	}
}

func TestOwnersDelay(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for v, want := range map[string]time.Duration{"": 0, "250ms": 250 * time.Millisecond, "x": 0, "-1s": 0} {
		t.Setenv(ownersDelayEnv, v)
		if got := ownersDelay(log); got != want {
			t.Errorf("%s=%q: %s, want %s", ownersDelayEnv, v, got, want)
		}
	}
}

func TestPendingOwnersExitWaitBounded(t *testing.T) {
	// A read that never ends (a hung store) must not keep its supervisor
	// or tracer alive: wait gives up after ownersExitWait and says so.
	defer func(d time.Duration) { ownersExitWait = d }(ownersExitWait)
	ownersExitWait = 100 * time.Millisecond
	var out syncBuffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	release := make(chan struct{})
	defer close(release)
	p := startOwners(log, func() shim.OwnerSource {
		<-release
		return nil
	})
	t0 := time.Now()
	p.wait()
	if d := time.Since(t0); d < ownersExitWait || d > 5*time.Second {
		t.Errorf("wait returned after %s, want about %s", d, ownersExitWait)
	}
	if !strings.Contains(out.String(), "given up") {
		t.Errorf("no line saying the read was given up:\n%s", out.String())
	}
}
