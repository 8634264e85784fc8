package hook

import (
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/remainroot/remainroot/shim"
)

// ownersDelayEnv, in the hook's environment (a hooks.json "env" entry,
// which the supervisor and the tracer inherit), delays the reading of the
// image owners by its duration: tests use it to check that the first
// call needing them waits for them (TestImageOwners/slow-read). Nothing
// else reads it.
const ownersDelayEnv = "REMAINROOT_TEST_IMAGE_OWNERS_DELAY"

// pendingOwners is a container's image owners being read in the
// background (imageOwners), so that the container's start does not wait
// for them: the hook reports and the trace begins at once, and the first
// call that needs the owners (the stub's image filter at the first exec,
// a stat in mode full) waits in Owners until the read has ended. The
// result is set before done is closed and never written again, so no
// caller sees a table being built.
type pendingOwners struct {
	log     *slog.Logger
	done    chan struct{}
	owners  shim.OwnerSource // set before done is closed
	started time.Time
	waited  sync.Once
}

// startImageOwners starts reading the owners of the container's image
// (imageOwners: it logs the result, or why there is none, once) and
// returns at once, logging the time it blocked its caller (blocked=).
func startImageOwners(log *slog.Logger, bundle, id string) *pendingOwners {
	return startImageOwnersOfRoot(log, bundle, "", id)
}

// startImageOwnersOfRoot is startImageOwners of imageOwnersOfRoot: the
// supervisor starts reading at the precreate hook, from the config's
// root, before the runtime has made a bundle (supervisor_owners.go).
func startImageOwnersOfRoot(log *slog.Logger, bundle, rootfs, id string) *pendingOwners {
	delay := ownersDelay(log)
	return startOwners(log, func() shim.OwnerSource {
		if delay > 0 {
			time.Sleep(delay)
		}
		return imageOwnersOfRoot(log, bundle, rootfs, id)
	})
}

// startOwners runs read on a goroutine of its own; its result is what
// Owners returns.
func startOwners(log *slog.Logger, read func() shim.OwnerSource) *pendingOwners {
	p := &pendingOwners{log: log, done: make(chan struct{}), started: time.Now()}
	go func() {
		defer close(p.done)
		p.owners = read()
	}()
	log.Info("image owners reading", "blocked", time.Since(p.started).Round(time.Microsecond))
	return p
}

// Owners returns the owners once they are read (nil: none to use), and
// logs, for the first caller, how long it waited for them: what the read
// added to the container's start beyond what it overlapped.
func (p *pendingOwners) Owners() shim.OwnerSource {
	t0 := time.Now()
	<-p.done
	p.waited.Do(func() {
		p.log.Info("image owners first needed", "waited", time.Since(t0).Round(time.Microsecond),
			"after", t0.Sub(p.started).Round(time.Microsecond))
	})
	return p.owners
}

// ownersExitWait bounds wait: a read that has not ended by then (a hung
// store) must not keep a supervisor or tracer alive after its container.
// The cache is written to a temporary file renamed into place, so giving
// up leaves no half-written cache; the next start reads cold again.
var ownersExitWait = 30 * time.Second

// wait waits for the read to end (its cache written whole) without
// counting as a use, for at most ownersExitWait: the supervisor and the
// tracer call it before they exit.
func (p *pendingOwners) wait() {
	select {
	case <-p.done:
	case <-time.After(ownersExitWait):
		p.log.Warn("image owners read still running at exit: given up (its cache not written)",
			"after", time.Since(p.started).Round(time.Millisecond))
	}
}

// ownersDelay is ownersDelayEnv's duration, 0 when unset or malformed.
func ownersDelay(log *slog.Logger) time.Duration {
	v := os.Getenv(ownersDelayEnv)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		log.Warn("malformed test delay of the image owners' read ignored", "env", ownersDelayEnv, "value", v)
		return 0
	}
	log.Info("image owners read delayed (test)", "env", ownersDelayEnv, "delay", d)
	return d
}
