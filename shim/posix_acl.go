package shim

import (
	"encoding/binary"
	"errors"
	"slices"

	"golang.org/x/sys/unix"
)

// The POSIX ACL xattr value (system.posix_acl_access and
// system.posix_acl_default), as include/uapi/linux/posix_acl_xattr.h lays
// it out: a header { le32 a_version = 2 } and then entries { le16 e_tag;
// le16 e_perm; le32 e_id }. Decoding follows the kernel's
// posix_acl_from_xattr (fs/posix_acl.c) and the checks of posix_acl_valid,
// so that the model knows which values the kernel would accept; it never
// panics on a malformed value.

// Names of the ACL xattrs.
const (
	ACLAccessXattr  = "system.posix_acl_access"
	ACLDefaultXattr = "system.posix_acl_default"
)

// ACL entry tags.
const (
	ACLUserObj  = 0x01
	ACLUser     = 0x02
	ACLGroupObj = 0x04
	ACLGroup    = 0x08
	ACLMask     = 0x10
	ACLOther    = 0x20
)

const (
	aclVersion    = 2
	aclHeaderSize = 4
	aclEntrySize  = 8
	aclPermBits   = 7 // ACL_READ | ACL_WRITE | ACL_EXECUTE
	// aclUndefinedID is ACL_UNDEFINED_ID, the id of unnamed entries.
	aclUndefinedID = 0xffffffff
	// xattrSizeMax is XATTR_SIZE_MAX: a larger value is E2BIG.
	xattrSizeMax = 65536
)

// ACLEntry is one entry of an ACL. ID only means something for ACLUser
// and ACLGroup.
type ACLEntry struct {
	Tag  uint16
	Perm uint16
	ID   uint32
}

// Named reports whether the entry names a user or group by id.
func (e ACLEntry) Named() bool { return e.Tag == ACLUser || e.Tag == ACLGroup }

// Errors of DecodeACL, with the errno the kernel gives for them.
var (
	errACLShort   = errors.New("posix acl: shorter than its header")
	errACLVersion = errors.New("posix acl: unknown version")
	errACLSize    = errors.New("posix acl: not a whole number of entries")
	errACLTag     = errors.New("posix acl: unknown tag")
)

// aclErrno is the kernel's errno for a DecodeACL or Valid error.
func aclErrno(err error) unix.Errno {
	if err == errACLVersion {
		return unix.EOPNOTSUPP
	}
	return unix.EINVAL
}

// DecodeACL parses an ACL xattr value as posix_acl_from_xattr does. An
// empty value or a header without entries is a nil ACL (setting it removes
// the ACL). It does not check the order of the entries: see Valid.
func DecodeACL(b []byte) ([]ACLEntry, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if len(b) < aclHeaderSize {
		return nil, errACLShort
	}
	if binary.LittleEndian.Uint32(b) != aclVersion {
		return nil, errACLVersion
	}
	b = b[aclHeaderSize:]
	if len(b)%aclEntrySize != 0 {
		return nil, errACLSize
	}
	var out []ACLEntry
	for ; len(b) > 0; b = b[aclEntrySize:] {
		e := ACLEntry{
			Tag:  binary.LittleEndian.Uint16(b),
			Perm: binary.LittleEndian.Uint16(b[2:]),
			ID:   binary.LittleEndian.Uint32(b[4:]),
		}
		switch e.Tag {
		case ACLUserObj, ACLGroupObj, ACLMask, ACLOther:
			// The kernel keeps no id for these; neither does the model,
			// so that an encoded ACL is the kernel's own getxattr value.
			e.ID = aclUndefinedID
		case ACLUser, ACLGroup:
		default:
			return nil, errACLTag
		}
		out = append(out, e)
	}
	return out, nil
}

// EncodeACL lays out entries as an ACL xattr value. The kernel writes
// ACL_UNDEFINED_ID (-1) as the id of unnamed entries.
func EncodeACL(entries []ACLEntry) []byte {
	b := make([]byte, aclHeaderSize, aclHeaderSize+aclEntrySize*len(entries))
	binary.LittleEndian.PutUint32(b, aclVersion)
	for _, e := range entries {
		id := e.ID
		if !e.Named() {
			id = aclUndefinedID
		}
		b = binary.LittleEndian.AppendUint16(b, e.Tag)
		b = binary.LittleEndian.AppendUint16(b, e.Perm)
		b = binary.LittleEndian.AppendUint32(b, id)
	}
	return b
}

// ValidACL applies posix_acl_valid's rules: permissions are rwx bits, the
// entries come in the order USER_OBJ, USER..., GROUP_OBJ, GROUP..., MASK,
// OTHER, each unnamed one exactly once, and MASK is there when a named
// entry is (it may be there without one). It returns nil or EINVAL.
func ValidACL(entries []ACLEntry) error {
	const (
		wantUserObj = iota
		inUsers
		inGroups
		wantOther
		done
	)
	state, needsMask := wantUserObj, false
	for _, e := range entries {
		if e.Perm&^aclPermBits != 0 {
			return unix.EINVAL
		}
		switch {
		case e.Tag == ACLUserObj && state == wantUserObj:
			state = inUsers
		case e.Tag == ACLUser && state == inUsers:
			needsMask = true
		case e.Tag == ACLGroupObj && state == inUsers:
			state = inGroups
		case e.Tag == ACLGroup && state == inGroups:
			needsMask = true
		case e.Tag == ACLMask && state == inGroups:
			state = wantOther
		case e.Tag == ACLOther && (state == wantOther || state == inGroups && !needsMask):
			state = done
		default:
			return unix.EINVAL
		}
	}
	if state != done {
		return unix.EINVAL
	}
	return nil
}

// ReduceACL splits a valid ACL into what a user namespace can hold and
// the named entries it cannot map (mapped says whether it maps a uid, or
// with group a gid). The mask stays: the file's group class keeps the
// permissions the full ACL gives it, and the kept ACL is still valid.
func ReduceACL(entries []ACLEntry, mapped func(id uint32, group bool) bool) (kept, unmapped []ACLEntry) {
	for _, e := range entries {
		if e.Named() && !mapped(e.ID, e.Tag == ACLGroup) {
			unmapped = append(unmapped, e)
			continue
		}
		kept = append(kept, e)
	}
	return kept, unmapped
}

// MergeACL puts recorded named entries back into the ACL the kernel holds,
// each among the entries of its tag in id order (as setfacl writes them).
// An entry whose id the kernel's ACL already names is left out. Without a
// mask in the kernel's ACL (one that changed behind remainroot's back) the
// recorded entries are stale: the kernel's ACL is returned as it is.
func MergeACL(kernel, recorded []ACLEntry) []ACLEntry {
	if !slices.ContainsFunc(kernel, func(e ACLEntry) bool { return e.Tag == ACLMask }) {
		return kernel
	}
	var out []ACLEntry
	for _, tag := range []uint16{ACLUser, ACLGroup} {
		var named []ACLEntry
		for _, e := range kernel {
			if e.Tag == tag {
				named = append(named, e)
			}
		}
		for _, r := range recorded {
			if r.Tag == tag && !slices.ContainsFunc(named, func(e ACLEntry) bool { return e.ID == r.ID }) {
				named = append(named, r)
			}
		}
		slices.SortStableFunc(named, func(a, b ACLEntry) int {
			switch {
			case a.ID < b.ID:
				return -1
			case a.ID > b.ID:
				return 1
			}
			return 0
		})
		owner := uint16(ACLUserObj)
		if tag == ACLGroup {
			owner = ACLGroupObj
		}
		for _, e := range kernel {
			if e.Tag == owner {
				out = append(out, e)
			}
		}
		out = append(out, named...)
	}
	for _, tag := range []uint16{ACLMask, ACLOther} {
		for _, e := range kernel {
			if e.Tag == tag {
				out = append(out, e)
			}
		}
	}
	return out
}
