package shim

// StatOffsets are where a struct stat (or, Statx, a struct statx) holds
// the fields mode full reads and rewrites: what another route's code (the
// in-process handler's templates) must use to find them as the model
// does.
type StatOffsets struct{ Ino, Mode, UID, GID uint16 }

// StatLayout returns the offsets of this architecture's struct stat, or
// of struct statx.
func StatLayout(statx bool) StatOffsets {
	if statx {
		return StatOffsets{Ino: statxIno, Mode: statxMode, UID: statxUID, GID: statxGID}
	}
	return StatOffsets{Ino: statIno, Mode: statMode, UID: statUID, GID: statGID}
}
