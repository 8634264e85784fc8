// Command gochown drops to uid 1000 with syscall.Setuid (unless
// GOCHOWN_AS_ROOT is set) and then chowns
// root's files from 200 goroutines, each on a small stack (goroutine stacks
// start at 2 KiB, and what lies below one belongs to other goroutines),
// checking that the data on those stacks stays right. Under remainroot
// --mode creds each of those chowns is emulated with a plan (the thread
// stats the file before the ownership rule is applied): nothing may be
// written below the stack pointer of a thread. It prints how many frames
// were damaged and the errors the chowns got.
package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"syscall"
)

// work fills a frame at each level of a short recursion, chowns at the
// bottom, and checks every frame on the way back.
//
//go:noinline
func work(depth int, seed byte, path string, errs map[string]int, mu *sync.Mutex) bool {
	var buf [64]byte
	for i := range buf {
		buf[i] = seed + byte(i)
	}
	ok := true
	if depth > 0 {
		ok = work(depth-1, seed+1, path, errs, mu)
	} else {
		for i := 0; i < 10; i++ {
			err := os.Chown(path, 1000, -1)
			var errno syscall.Errno
			name := "ok"
			if errors.As(err, &errno) {
				name = errno.Error()
			} else if err != nil {
				name = err.Error()
			}
			mu.Lock()
			errs[name]++
			mu.Unlock()
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
	for _, name := range []string{"a", "b"} {
		if err := os.WriteFile(name, nil, 0o644); err != nil {
			panic(err)
		}
	}
	// GOCHOWN_AS_ROOT: stay root and give the files to uid 1000 (under
	// remainroot mode creds: a multi-threaded process that is not
	// attached, whose every chown must be brought to a ptrace stop).
	if os.Getenv("GOCHOWN_AS_ROOT") == "" {
		if err := syscall.Setuid(1000); err != nil {
			panic(err)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs := map[string]int{}
	bad := 0
	for g := 0; g < 200; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			path := []string{"a", "b"}[g%2]
			for r := 0; r < 10; r++ {
				if !work(g%7, byte(g), path, errs, &mu) {
					mu.Lock()
					bad++
					mu.Unlock()
				}
			}
		}(g)
	}
	wg.Wait()
	var names []string
	for n := range errs {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Println("bad", bad)
	for _, n := range names {
		fmt.Printf("%s %d\n", n, errs[n])
	}
}
