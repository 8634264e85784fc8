package shim

// ChownAllowed reports whether these credentials may change the owner of a
// file owned by fileUID:fileGID to uid:gid (NoID leaving that id alone),
// with the rules of chown(2): "Only a privileged process (Linux: one with the
// CAP_CHOWN capability) may change the owner of a file. The owner of a file
// may change the group of the file to any group of which that owner is a
// member." Changing the owner to the owner it already has is allowed to the
// owner. It returns nil or EPERM; the caller decides path errors first.
// The owner is one the namespace maps (see chownAllowedOn).
func (c Creds) ChownAllowed(fileUID, fileGID, uid, gid uint32) error {
	return c.chownAllowedOn(objectOwner{FileOwner: FileOwner{fileUID, fileGID}, uidMapped: true, gidMapped: true}, uid, gid)
}
