// Command gosetid exercises Go's all-threads credential calls.
//
// It starts several goroutines, each locked to its own OS thread and busy
// in a loop, then calls syscall.Setgroups([]int{1000}),
// syscall.Setresgid(1000, 1000, 1000) and syscall.Setresuid(1000, 1000, 1000).
// Without cgo, Go (1.16 and later) applies these calls to every OS thread of
// the process (runtime AllThreadsSyscall), so each locked thread must then
// see the new credentials. Every locked thread reads its own ids with raw
// getresuid, getresgid and getgroups system calls and the main goroutine
// prints the reports in a fixed order, without pids or thread ids.
// Exit status: 0 if the three calls succeeded, 1 otherwise.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

const workers = 4

type report struct {
	uid, gid [3]uint32
	groups   []uint32
	err      syscall.Errno
}

func takeReport() report {
	var r report
	if _, _, e := syscall.RawSyscall(syscall.SYS_GETRESUID,
		uintptr(unsafe.Pointer(&r.uid[0])), uintptr(unsafe.Pointer(&r.uid[1])), uintptr(unsafe.Pointer(&r.uid[2]))); e != 0 {
		r.err = e
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_GETRESGID,
		uintptr(unsafe.Pointer(&r.gid[0])), uintptr(unsafe.Pointer(&r.gid[1])), uintptr(unsafe.Pointer(&r.gid[2]))); e != 0 {
		r.err = e
	}
	buf := make([]uint32, 8)
	n, _, e := syscall.RawSyscall(syscall.SYS_GETGROUPS, uintptr(len(buf)), uintptr(unsafe.Pointer(&buf[0])), 0)
	if e != 0 {
		r.err = e
	} else {
		r.groups = buf[:n]
	}
	return r
}

func (r report) String() string {
	if r.err != 0 {
		return "error " + r.err.Error()
	}
	g := make([]string, len(r.groups))
	for i, v := range r.groups {
		g[i] = fmt.Sprint(v)
	}
	return fmt.Sprintf("uid=%d,%d,%d gid=%d,%d,%d groups=%s",
		r.uid[0], r.uid[1], r.uid[2], r.gid[0], r.gid[1], r.gid[2], strings.Join(g, ","))
}

func result(name string, err error) bool {
	if err != nil {
		fmt.Printf("%s: %v\n", name, err)
		return false
	}
	fmt.Printf("%s: ok\n", name)
	return true
}

func main() {
	var (
		phase   atomic.Int32
		started sync.WaitGroup
		done    sync.WaitGroup
		reports [workers]report
		tids    [workers]int
		taken   = make(chan int, workers)
	)
	for i := 0; i < workers; i++ {
		started.Add(1)
		done.Add(1)
		go func(i int) {
			defer done.Done()
			runtime.LockOSThread()
			tids[i] = syscall.Gettid()
			started.Done()
			for phase.Load() == 0 {
				// Busy: stay runnable on this thread.
			}
			reports[i] = takeReport()
			taken <- i
			// Stay locked until every report is taken so that the thread
			// is not reused by another worker.
			for phase.Load() != 2 {
				time.Sleep(time.Millisecond)
			}
		}(i)
	}
	started.Wait()
	distinct := map[int]bool{}
	for _, tid := range tids {
		distinct[tid] = true
	}
	time.Sleep(50 * time.Millisecond)

	ok := result("setgroups", syscall.Setgroups([]int{1000}))
	ok = result("setresgid", syscall.Setresgid(1000, 1000, 1000)) && ok
	ok = result("setresuid", syscall.Setresuid(1000, 1000, 1000)) && ok

	runtime.LockOSThread()
	mainReport := takeReport()
	phase.Store(1)
	for i := 0; i < workers; i++ {
		<-taken
	}
	phase.Store(2)
	done.Wait()

	fmt.Printf("distinct worker threads: %d\n", len(distinct))
	fmt.Printf("main: %s\n", mainReport)
	for i := range reports {
		fmt.Printf("worker%d: %s\n", i, reports[i])
	}
	if !ok {
		os.Exit(1)
	}
}
