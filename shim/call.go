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

// ScatterWriter is a Memory that writes several pieces in one go; it fails
// unless every piece is written.
type ScatterWriter interface {
	WriteScattered(pieces [][]byte, addrs []uint64) error
}

// FileOwner is an object's owner as the emulated namespace sees it.
type FileOwner struct{ UID, GID uint32 }

// Env is what the model needs to know beyond the thread's credentials.
type Env interface {
	// Tid is the calling thread's id in its own pid namespace, what
	// gettid() returns there (capset's "pid" may name it).
	Tid() int
	// CredsOf returns the emulated credentials of another traced thread,
	// named by its id in the caller's pid namespace, for capget on a pid;
	// false when the thread is not traced.
	CredsOf(pid int) (Creds, bool)
	// Scratch is the address of ScratchSize bytes of the thread's memory
	// that it does not use (below its stack pointer), for Plan steps.
	Scratch() uint64
	// Files is nil in mode creds; in mode full it gives what ownership
	// recording needs.
	Files() Files
	// Mapped reports whether the thread's user namespace maps uid id (a
	// gid with group): an ACL entry naming another id is EINVAL there.
	Mapped(id uint32, group bool) bool
	// NoNewPrivs reports whether the thread has no_new_privs set (which
	// is never emulated: the kernel's own flag).
	NoNewPrivs() bool
	// ReadOnlyMount reports whether the mount with id mntID (statx's
	// stx_mnt_id) in the thread's mount namespace is read-only, by its own
	// flag or its superblock's.
	ReadOnlyMount(mntID uint64) bool
}

// Files is what mode full needs beyond the thread's memory.
type Files interface {
	// Special returns the owner recorded for an object that cannot carry
	// user xattrs (symlinks, device nodes, FIFOs, sockets), by device and
	// inode; SetSpecial records one for the container's lifetime.
	Special(dev, ino uint64) (FileOwner, bool)
	SetSpecial(dev, ino uint64, o FileOwner)
	// SetFDOwner records o on the object the thread's descriptor fd
	// refers to (no path lookup is involved).
	SetFDOwner(fd int, o FileOwner) error
	// StatFD stats what the thread's descriptor fd (AT_FDCWD: its working
	// directory) refers to, through the kernel's own reference to it, and
	// returns a struct stat, or a struct statx with mask and flags, laid out
	// as the kernel writes it, ids as the thread's namespace sees them.
	StatFD(fd int, statx bool, flags int, mask uint32) ([]byte, error)
	// FDOwner returns the owner recorded in that object's xattr.
	FDOwner(fd int) (FileOwner, bool)
	// FDNode returns the device node recorded in that object's
	// NodeXattr (full_node.go).
	FDNode(fd int) (Node, bool)
	// HasSpecial reports whether the table of special files has entries.
	HasSpecial() bool
	// ImageOwners is where an object without an owner record takes its
	// owner from: the owners its image gave it, which the store could not
	// apply (nil: none known).
	ImageOwners() OwnerSource
	// Missing reports whether call nr has failed with ENOSYS for this
	// trace (the *xattrat calls under a container's seccomp profile).
	Missing(nr uintptr) bool
	// Malformed reports an owner record that cannot be decoded (read back
	// from a file, so anyone who could write the file wrote it): the
	// object is then taken to have none, as without remainroot.
	Malformed(value []byte, err error)
}

// OwnerSource gives the owner an object had in its container's image, by
// device and inode (package imagestore). It is consulted only for objects
// without a record of their own: a chown in the container wins.
type OwnerSource interface {
	ImageOwner(dev, ino uint64) (FileOwner, bool)
}

// imageOwner asks files' owner source, if any, for (dev, ino).
func imageOwner(files Files, dev, ino uint64) (FileOwner, bool) {
	src := files.ImageOwners()
	if src == nil {
		return FileOwner{}, false
	}
	return src.ImageOwner(dev, ino)
}

// ScratchSize is the size of the area Files.Scratch points to.
const ScratchSize = 6144

// OutcomeKind says what the tracer does with a call.
type OutcomeKind int

const (
	// Return skips the system call and returns Value to the thread.
	Return OutcomeKind = iota
	// Run lets the kernel run the call with Args, possibly rewritten.
	Run
	// Steps has the thread make the system calls of Plan, one after the
	// other, and returns the Plan's final value.
	Steps
)

// Outcome is the model's answer to a Call.
type Outcome struct {
	Kind  OutcomeKind
	Value int64
	Args  [6]uint64
	Plan  Plan
}

// Step is one system call a Plan has the calling thread make, so that the
// kernel does the lookup and the permission checks with the thread's own
// root, working directory and credentials.
type Step struct {
	Nr   uintptr
	Args [6]uint64
	// In is written at InAddr (in the scratch area) before the call.
	In     []byte
	InAddr uint64
	// MayBlock marks a call that can block (an open of a FIFO): it runs
	// with the thread's own signal mask, so a signal can interrupt it.
	MayBlock bool
	// Direct marks the last step when it is the original call (or its
	// equivalent), whose result the thread gets as it is: it runs without
	// an exit stop. Untraced says the filter lets it through (it carries
	// StatMarker); otherwise its seccomp stop is passed untouched.
	Direct   bool
	Untraced bool
	// Else is made instead when this call fails with ElseOn: EBADF for an
	// f*xattr call on an O_PATH descriptor (the /proc/self/fd form then
	// works), ENOSYS for a call the kernel or a seccomp profile lacks.
	Else   *Step
	ElseOn unix.Errno
}

// Plan is an emulation that needs the thread to make system calls. Next
// gets the previous step's result (the kernel's return value; nothing on
// the first call) and returns the next step, or nil and the final return
// value of the emulated call.
type Plan interface {
	Next(prev int64) (next *Step, final int64)
}

// A FusablePlan can have its first two steps made by the thread without a
// stop in between (the tracer's in-thread stub): Fuse, called once Next(0)
// has returned the first step, returns the step the plan takes next when
// the first step's result satisfies rule, which is then the last: its
// result is the emulated call's. Any other first result comes back to the
// plan's Next as usual.
type FusablePlan interface {
	Plan
	Fuse() (second *Step, rule FuseRule, ok bool)
	// Fused gets the second step's result when the stub came back after
	// it (see FuseRule.ModeAddr) and returns the emulated call's.
	Fused(res int64) int64
}

// FuseRule says which results of a fused plan's first step lead straight
// to its second step.
type FuseRule struct {
	// OnlySuccess: only 0 and -Errno do; otherwise every result but a
	// positive one and -Errno does (Errno 0: every result <= 0).
	OnlySuccess bool
	Errno       unix.Errno
	// Also, with OnlySuccess, are up to two more errnos that lead
	// straight to the second step.
	Also []unix.Errno
	// ModeAddr, when not 0, is the address of the file type and mode (16
	// bits) the second step writes: when it succeeds and the type is not
	// a regular file or directory (an object whose owner may be in the
	// table of special files), the stub comes back to Fused.
	ModeAddr uint64
	// InoAddr, when not 0, is the address of the inode number (64 bits)
	// the second step writes: when it succeeds, the stub comes back to
	// Fused unless the image filter says the container's image gives
	// that inode no owner (attach/stub's Filter; without a filter, always).
	InoAddr uint64
}

// GoesOn reports whether the first step's result res leads straight to the
// second step (what the stub computes in the thread).
func (r FuseRule) GoesOn(res int64) bool {
	if r.OnlySuccess {
		if res == 0 || (r.Errno != 0 && res == -int64(r.Errno)) {
			return true
		}
		for _, e := range r.Also {
			if res == -int64(e) {
				return true
			}
		}
		return false
	}
	return res <= 0 && (r.Errno == 0 || res != -int64(r.Errno))
}

func steps(p Plan) Outcome { return Outcome{Kind: Steps, Plan: p} }

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

// errnoValue is a system call's return value for err.
func errnoValue(err error) int64 {
	if errno, ok := err.(unix.Errno); ok {
		return -int64(errno)
	}
	return -int64(unix.EFAULT)
}
