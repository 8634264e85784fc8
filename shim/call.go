package shim

import "golang.org/x/sys/unix"

// Call is one system call as a thread made it: the number and the six
// argument registers.
type Call struct {
	Nr   uintptr
	Args [6]uint64
}

// Memory reads and writes the calling thread's address space. A failed
// access makes the call fail with EFAULT, as in the kernel.
type Memory interface {
	ReadAt(p []byte, addr uint64) error
	WriteAt(p []byte, addr uint64) error
}

// FileOwner is an object's owner as the emulated namespace sees it.
type FileOwner struct{ UID, GID uint32 }

// Env is what the model needs to know beyond the thread's credentials.
type Env interface {
	// Tid is the calling thread's id (capset's "pid" may name it).
	Tid() int
	// CredsOf returns the emulated credentials of another traced thread, for
	// capget on a pid; false when the thread is not traced.
	CredsOf(tid int) (Creds, bool)
	// Owner resolves what fchownat(dirfd, path, ..., flags) would change, in
	// the calling thread's root and working directory, and returns its owner
	// or the errno the kernel would give for the lookup.
	Owner(dirfd int, path string, flags int) (FileOwner, error)
}

// OutcomeKind says what the tracer does with a call.
type OutcomeKind int

const (
	// Return skips the system call and returns Value to the thread.
	Return OutcomeKind = iota
	// Run lets the kernel run the call with Args, possibly rewritten.
	Run
)

// Outcome is the model's answer to a Call.
type Outcome struct {
	Kind  OutcomeKind
	Value int64
	Args  [6]uint64
}

func ret(v int64) Outcome { return Outcome{Kind: Return, Value: v} }

func fail(err error) Outcome {
	if errno, ok := err.(unix.Errno); ok {
		return ret(-int64(errno))
	}
	return ret(-int64(unix.EFAULT))
}

func result(err error) Outcome {
	if err != nil {
		return fail(err)
	}
	return ret(0)
}

func run(args [6]uint64) Outcome { return Outcome{Kind: Run, Args: args} }

// id reads an id argument as the kernel does: uid_t is 32 bits.
func id(arg uint64) uint32 { return uint32(arg) }
