// Command gostat stats files from 200 goroutines, each on a small stack
// (goroutine stacks start at 2 KiB, and what lies below one belongs to
// other goroutines), and checks that the data on those stacks and the stat
// results stay right. Under remainroot --mode full every stat is emulated;
// nothing may be written below the stack pointer of a thread.
package main

import (
	"fmt"
	"os"
	"sync"
	"syscall"
)

// work fills a frame at each level of a short recursion, stats at the
// bottom, and checks every frame on the way back.
//
//go:noinline
func work(depth int, seed byte, path string, uid, gid uint32) bool {
	var buf [64]byte
	for i := range buf {
		buf[i] = seed + byte(i)
	}
	ok := true
	if depth > 0 {
		ok = work(depth-1, seed+1, path, uid, gid)
	} else {
		for i := 0; i < 10; i++ {
			var st syscall.Stat_t
			if err := syscall.Lstat(path, &st); err != nil || st.Uid != uid || st.Gid != gid {
				return false
			}
		}
	}
	for i := range buf {
		if buf[i] != seed+byte(i) {
			return false
		}
	}
	return ok
}

func main() {
	// One file with a recorded owner, one without.
	if err := os.WriteFile("owned", nil, 0o644); err != nil {
		panic(err)
	}
	if err := os.Chown("owned", 1234, 5678); err != nil {
		panic(err)
	}
	if err := os.WriteFile("plain", nil, 0o644); err != nil {
		panic(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	for g := 0; g < 200; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			path, uid, gid := "plain", uint32(0), uint32(0)
			if g%2 == 1 {
				path, uid, gid = "owned", 1234, 5678
			}
			for r := 0; r < 10; r++ {
				if !work(g%7, byte(g), path, uid, gid) {
					mu.Lock()
					bad++
					mu.Unlock()
				}
			}
		}(g)
	}
	wg.Wait()
	fmt.Println("bad", bad)
}
