package shim

import (
	"slices"

	"golang.org/x/sys/unix"
)

// idArgs lists, for each set*id call, which of its arguments are user ids
// and which are group ids (setgroups carries its ids in memory).
var idArgs = map[uintptr]struct{ uids, gids []int }{
	unix.SYS_SETUID:    {uids: []int{0}},
	unix.SYS_SETREUID:  {uids: []int{0, 1}},
	unix.SYS_SETRESUID: {uids: []int{0, 1, 2}},
	unix.SYS_SETFSUID:  {uids: []int{0}},
	unix.SYS_SETGID:    {gids: []int{0}},
	unix.SYS_SETREGID:  {gids: []int{0, 1}},
	unix.SYS_SETRESGID: {gids: []int{0, 1, 2}},
	unix.SYS_SETFSGID:  {gids: []int{0}},
	unix.SYS_SETGROUPS: {},
}

// idGetters are the calls that report ids or groups (not capabilities).
var idGetters = map[uintptr]bool{
	unix.SYS_GETUID: true, unix.SYS_GETEUID: true, unix.SYS_GETRESUID: true,
	unix.SYS_GETGID: true, unix.SYS_GETEGID: true, unix.SYS_GETRESGID: true,
	unix.SYS_GETGROUPS: true,
}

// SetsIDs reports whether call nr sets user or group ids or the
// supplementary groups.
func SetsIDs(nr uintptr) bool { _, ok := idArgs[nr]; return ok }

// GetsIDs reports whether call nr reports ids or groups.
func GetsIDs(nr uintptr) bool { return idGetters[nr] }

// IDSpace says which ids a user namespace maps.
type IDSpace struct {
	UIDMapped, GIDMapped func(id uint32) bool
	// SetgroupsDenied: /proc/PID/setgroups is "deny" (every single-id
	// namespace an unprivileged user makes).
	SetgroupsDenied bool
}

// RefusedByMapping reports whether the kernel refuses call, a set*id or
// setgroups call, only because the namespace cannot represent it: one of
// its ids is not mapped (setuid(2): "EINVAL: The user ID specified in uid
// is not valid in this user namespace"), or setgroups is denied in the
// namespace (user_namespaces(7): "setgroups is not permitted ... deny").
// A runtime switching to the container's user makes such calls; remainroot
// answers them instead (see Identity).
func RefusedByMapping(call Call, mem Memory, space IDSpace) bool {
	a, ok := idArgs[call.Nr]
	if !ok {
		return false
	}
	for _, i := range a.uids {
		if id := uint32(call.Args[i]); id != NoID && !space.UIDMapped(id) {
			return true
		}
	}
	for _, i := range a.gids {
		if id := uint32(call.Args[i]); id != NoID && !space.GIDMapped(id) {
			return true
		}
	}
	if call.Nr != unix.SYS_SETGROUPS {
		return false
	}
	if space.SetgroupsDenied {
		return true
	}
	size := int32(call.Args[0])
	if size < 0 || size > NGroupsMax {
		return false // the kernel gives the error
	}
	groups, err := readU32s(mem, call.Args[1], int(size))
	if err != nil {
		return false
	}
	for _, g := range groups {
		if !space.GIDMapped(g) {
			return true
		}
	}
	return false
}

// Identity is a user and groups a process runs as.
type Identity struct {
	UID, GID uint32
	Groups   []uint32
}

// IdentityOf returns the ids and groups of c.
func IdentityOf(c Creds) Identity {
	return Identity{UID: c.UID, GID: c.GID, Groups: c.Groups}
}

// WithIdentity returns c with every user id id.UID, every group id
// id.GID and the supplementary groups id.Groups: what a runtime's
// setgroups, setresgid and setresuid make of a thread before it exec's the
// container's process. The capabilities are c's; Creds.Exec then gives a
// user other than root none ("Capabilities and execution of programs by
// root" applies only to uid 0), unless they are ambient.
func WithIdentity(c Creds, id Identity) Creds {
	n := c
	n.UID, n.EUID, n.SUID, n.FSUID = id.UID, id.UID, id.UID, id.UID
	n.GID, n.EGID, n.SGID, n.FSGID = id.GID, id.GID, id.GID, id.GID
	n.Groups = slices.Compact(slices.Sorted(slices.Values(id.Groups)))
	return n
}
