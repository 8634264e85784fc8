package imagestore

// Inodes lists the inode numbers o has owners for: the tracer's stub
// filters stats with them (attach/stub's Filter), so that a stat of an
// object the image gives no owner costs nothing more.
func (o Owners) Inodes() []uint64 {
	out := make([]uint64, 0, len(o))
	for k := range o {
		out = append(out, k.Ino)
	}
	return out
}
