package shim

import (
	"fmt"
	"log/slog"
	"slices"
)

// NoID is the id value (uid_t)-1 that set*id calls read as "leave unchanged".
const NoID = ^uint32(0)

// NGroupsMax is the kernel's NGROUPS_MAX: the largest supplementary group list.
const NGroupsMax = 65536

// Creds are one thread's emulated credentials. A Creds value is never
// modified in place: every setter returns a new value, so a thread's state
// can be shared with the children it forks until one of them changes it.
type Creds struct {
	UID, EUID, SUID, FSUID uint32
	GID, EGID, SGID, FSGID uint32
	// Groups is the sorted supplementary group list. Treat it as read-only.
	Groups []uint32
	Caps   CapSets
	// Securebits holds the SECBIT_* flags; SECBIT_KEEP_CAPS is PR_SET_KEEPCAPS.
	Securebits uint32
}

// Root returns the credentials of root with every capability in valid,
// no supplementary groups and no securebits: what a process has at the start
// of a user namespace.
func Root(valid CapSet) Creds {
	return Creds{Caps: CapSets{Effective: valid, Permitted: valid, Bounding: valid}}
}

// Equal reports whether c and o are the same credentials.
func (c Creds) Equal(o Creds) bool {
	return c.UID == o.UID && c.EUID == o.EUID && c.SUID == o.SUID && c.FSUID == o.FSUID &&
		c.GID == o.GID && c.EGID == o.EGID && c.SGID == o.SGID && c.FSGID == o.FSGID &&
		slices.Equal(c.Groups, o.Groups) && c.Caps == o.Caps && c.Securebits == o.Securebits
}

// String formats c for logs.
func (c Creds) String() string {
	return fmt.Sprintf("uid=%d,%d,%d,%d gid=%d,%d,%d,%d groups=%v eff=%#x prm=%#x inh=%#x bnd=%#x amb=%#x secbits=%#x",
		c.UID, c.EUID, c.SUID, c.FSUID, c.GID, c.EGID, c.SGID, c.FSGID, c.Groups,
		uint64(c.Caps.Effective), uint64(c.Caps.Permitted), uint64(c.Caps.Inheritable),
		uint64(c.Caps.Bounding), uint64(c.Caps.Ambient), c.Securebits)
}

// LogValue formats c for log/slog only when a record is written.
func (c Creds) LogValue() slog.Value { return slog.StringValue(c.String()) }

// inGroup reports whether gid is the fsgid or a supplementary group
// (the kernel's in_group_p).
func (c Creds) inGroup(gid uint32) bool {
	if gid == c.FSGID {
		return true
	}
	_, found := slices.BinarySearch(c.Groups, gid)
	return found
}

func (c Creds) secure(bit uint32) bool { return c.Securebits&(1<<bit) != 0 }
