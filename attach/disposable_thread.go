package attach

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// onDisposableThread runs f on an OS thread of its own that ends when f
// returns, and waits for it. Whatever f gives its thread (a seccomp filter)
// ends with the thread.
//
// A goroutine that returns while locked to its thread ends that thread,
// except the process's main thread, which the Go runtime cannot end: it
// parks it for good instead. A filter left on the parked main thread keeps
// the filter in use forever, so its listener never reports the end of its
// users and a trace never ends (seen: `remainroot run` outliving its
// command a few times in a thousand on a loaded machine). So f never runs
// on the main thread: a goroutine that finds itself there stays locked to
// it (keeping every other goroutine off it) while a second one, which
// cannot be scheduled there, runs f.
func onDisposableThread(f func()) {
	done := make(chan struct{})
	go func() {
		// Never unlocked: the goroutine's end ends the thread.
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			onDisposableThread(f)
			runtime.UnlockOSThread()
			close(done)
			return
		}
		f()
		close(done)
	}()
	<-done
}
