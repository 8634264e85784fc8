package attach

import (
	"github.com/remainroot/remainroot/attach/stub"
	"github.com/remainroot/remainroot/shim"
)

// inodeLister is an owner source that can list the inode numbers it has
// owners for (imagestore.Owners): the stub's image filter is made of
// them, so that a fused stat of an object the image gives no owner costs
// no second stop.
type inodeLister interface {
	Inodes() []uint64
}

// filterOfImage returns the image filter of the trace's image owners,
// built once; empty (the stub comes back after every stat) when the owner
// source cannot list its inodes.
func (t *Tracer) filterOfImage() stub.Filter {
	if !t.imageFilterDone {
		t.imageFilterDone = true
		if l, ok := t.imageOwners().(inodeLister); ok {
			t.imageFilter = stub.NewFilter(l.Inodes())
			t.log.Debug("image filter", "inodes", len(l.Inodes()), "bytes", len(t.imageFilter.Bits))
		}
	}
	return t.imageFilter
}

// imageOwners is what Options.ImageOwners gives, asked for once: the
// first caller may wait until the owners are read, and every caller gets
// the same source (nil: none known).
func (t *Tracer) imageOwners() shim.OwnerSource {
	t.imagesOnce.Do(func() {
		if t.opts.ImageOwners != nil {
			t.images = t.opts.ImageOwners()
		}
	})
	return t.images
}
