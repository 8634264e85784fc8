package imagefix

import "strings"

// ownerTree holds the non-root owners of the paths the layers applied so
// far leave in the image, by path component, so that a whiteout removes a
// whole subtree at once whatever its size.
type ownerTree struct {
	root  ownerNode
	nodes int // nodes allocated, bounded by maxNodes
}

type ownerNode struct {
	children map[string]*ownerNode
	owner    Owner
	hasOwner bool // owner is non-root
}

// lookup returns the non-root owner recorded for p.
func (t *ownerTree) lookup(p string) (Owner, bool) {
	n := &t.root
	for c := range strings.SplitSeq(p, "/") {
		if n = n.children[c]; n == nil {
			return Owner{}, false
		}
	}
	return n.owner, n.hasOwner
}

// set records p's owner (root owners are kept only as the absence of one);
// a p that is not a directory loses the lower layers' children it had.
func (t *ownerTree) set(p string, o Owner, isDir bool) error {
	if p == "" {
		return nil
	}
	n := &t.root
	for c := range strings.SplitSeq(p, "/") {
		next := n.children[c]
		if next == nil {
			if o.isRoot() {
				return nil // no lower owner here or below to replace
			}
			if t.nodes >= maxNodes {
				return errTooManyEntries
			}
			t.nodes++
			if n.children == nil {
				n.children = map[string]*ownerNode{}
			}
			next = &ownerNode{}
			n.children[c] = next
		}
		n = next
	}
	n.owner, n.hasOwner = o, !o.isRoot()
	if !isDir {
		n.children = nil
	}
	return nil
}

// apply records the owners a layer leaves.
func (t *ownerTree) apply(pending []pendingOwner) error {
	for _, p := range pending {
		if err := t.set(p.path, p.owner, p.isDir); err != nil {
			return err
		}
	}
	return nil
}

// remove forgets p and everything below it (a whiteout).
func (t *ownerTree) remove(p string) {
	parent, base := t.parentOf(p)
	if parent != nil {
		delete(parent.children, base)
	}
}

// removeChildren forgets everything below directory p (an opaque
// whiteout).
func (t *ownerTree) removeChildren(p string) {
	n := &t.root
	if p != "" {
		parent, base := t.parentOf(p)
		if parent == nil || parent.children[base] == nil {
			return
		}
		n = parent.children[base]
	}
	n.children = nil
}

func (t *ownerTree) parentOf(p string) (*ownerNode, string) {
	n := &t.root
	dir, base := "", p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		dir, base = p[:i], p[i+1:]
	}
	if dir != "" {
		for c := range strings.SplitSeq(dir, "/") {
			if n = n.children[c]; n == nil {
				return nil, ""
			}
		}
	}
	return n, base
}
