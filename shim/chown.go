package shim

import "golang.org/x/sys/unix"

// ChownAllowed reports whether these credentials may change the owner of a
// file owned by fileUID:fileGID to uid:gid (NoID leaving that id alone),
// with the rules of chown(2): "Only a privileged process (Linux: one with the
// CAP_CHOWN capability) may change the owner of a file. The owner of a file
// may change the group of the file to any group of which that owner is a
// member." Changing the owner to the owner it already has is allowed to the
// owner. It returns nil or EPERM; the caller decides path errors first.
func (c Creds) ChownAllowed(fileUID, fileGID, uid, gid uint32) error {
	if c.Caps.Effective.Has(CapChown) {
		return nil
	}
	if uid != NoID && (c.FSUID != fileUID || uid != fileUID) {
		return unix.EPERM
	}
	if gid != NoID && (c.FSUID != fileUID || (!c.inGroup(gid) && gid != fileGID)) {
		return unix.EPERM
	}
	return nil
}
