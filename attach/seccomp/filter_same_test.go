package seccomp

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/shim"
)

// sampleArgs are the argument values the filters test for, and some
// others: each argument of a sampled call is one of them.
func sampleArgs() []uint64 {
	vals := []uint64{0, 1, 0xffffffff, ^uint64(0), 1 << 32, 0xffffffff00000000,
		shim.InjectMarker, shim.InjectMarker & 0xffffffff, shim.InjectMarker &^ 0xffffffff,
		shim.EscalateMarker, shim.EscalateMarker & 0xffffffff, shim.EscalateMarker &^ 0xffffffff,
		unix.PR_SET_NAME, unix.PR_SET_NO_NEW_PRIVS, unix.SECCOMP_SET_MODE_STRICT, unix.O_WRONLY | unix.O_TRUNC}
	for opt := range shim.PrctlOptions {
		vals = append(vals, uint64(opt), 1<<32|uint64(opt))
	}
	for _, s := range shim.Syscalls() {
		m := uint64(s.OnlyIf.Mask)
		vals = append(vals, m, m|unix.O_RDWR, m|unix.AT_EMPTY_PATH, ^m)
		if r, ok := s.Notified(); ok {
			vals = append(vals, uint64(r.Mask), uint64(r.Mask)|m)
		}
	}
	return vals
}

// seccompDataAt is seccompDataArgs from instruction pointer ip.
func seccompDataAt(arch, nr uint32, ip uint64, args [6]uint64) []byte {
	b := seccompDataArgs(arch, nr, args)
	binary.BigEndian.PutUint32(b[seccompIP:], uint32(ip))
	binary.BigEndian.PutUint32(b[seccompIP+4:], uint32(ip>>32))
	return b
}

// Every filter gives every call the verdict it gave before the stub
// page's test moved behind the call number (programBefore): every call
// number, x32's and another architecture's too, from every sampled
// instruction pointer, with arguments drawn from sampleArgs (many draws
// for the numbers some filter routes).
func TestFilterSameVerdicts(t *testing.T) {
	vals := sampleArgs()
	var nrs []uint32
	for nr := range uint32(1024) {
		nrs = append(nrs, nr)
	}
	nrs = append(nrs, X32SyscallBit|unix.SYS_SETRESUID, X32SyscallBit|unix.SYS_READ, 0x7fffffff, 0xffffffff)
	routedAnywhere := func(nr uint32) bool {
		return routes(Filter{Setters: true, Getters: true, Files: true}, nr)
	}
	for _, f := range everyFilter() {
		if f.InProcess {
			continue // newer than the reference (TestInProcessFilterNotifies)
		}
		newRaw, err := f.Program()
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		oldRaw, err := programBefore(f)
		if err != nil {
			t.Fatalf("%+v before: %v", f, err)
		}
		newVM, oldVM := vmFor(t, newRaw), vmFor(t, oldRaw)
		rng := rand.New(rand.NewPCG(1, 2))
		differ := 0
		for _, arch := range []uint32{AuditArch, compatArch} {
			for _, nr := range nrs {
				draws := 1
				if routedAnywhere(nr) && arch == AuditArch {
					draws = 120
				}
				for _, ip := range sampleIPs {
					for range draws {
						var args [6]uint64
						for i := range args {
							args[i] = vals[rng.IntN(len(vals))]
						}
						data := seccompDataAt(arch, nr, ip, args)
						got, err := newVM.Run(data)
						if err != nil {
							t.Fatal(err)
						}
						want, err := oldVM.Run(data)
						if err != nil {
							t.Fatal(err)
						}
						if got != want && differ < 10 {
							differ++
							t.Errorf("%+v, arch %#x, call %#x from %#x, args %#x: got %#x, before %#x",
								f, arch, nr, ip, args, got, want)
						}
					}
				}
			}
		}
	}
}
