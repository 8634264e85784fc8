package shim

import (
	"encoding/binary"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// aclValue builds an ACL xattr value with version v from (tag, perm, id)
// triples.
func aclValue(v uint32, entries ...uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, v)
	for i := 0; i+2 < len(entries); i += 3 {
		b = binary.LittleEndian.AppendUint16(b, uint16(entries[i]))
		b = binary.LittleEndian.AppendUint16(b, uint16(entries[i+1]))
		b = binary.LittleEndian.AppendUint32(b, entries[i+2])
	}
	return b
}

const undef = aclUndefinedID

func TestDecodeACL(t *testing.T) {
	minimal := aclValue(2, ACLUserObj, 7, undef, ACLGroupObj, 5, undef, ACLOther, 5, undef)
	for _, c := range []struct {
		name  string
		value []byte
		want  []ACLEntry
		errno unix.Errno
	}{
		{"empty value removes", nil, nil, 0},
		{"header only removes", aclValue(2), nil, 0},
		{"short header", []byte{2, 0}, nil, unix.EINVAL},
		{"version 1", aclValue(1, ACLUserObj, 7, undef), nil, unix.EOPNOTSUPP},
		{"version 1 header only", aclValue(1), nil, unix.EOPNOTSUPP},
		{"partial entry", append(aclValue(2), 1, 0, 7), nil, unix.EINVAL},
		{"unknown tag", aclValue(2, 0x40, 7, 0), nil, unix.EINVAL},
		{"tag 0", aclValue(2, 0, 7, 0), nil, unix.EINVAL},
		{"minimal", minimal, []ACLEntry{{ACLUserObj, 7, undef}, {ACLGroupObj, 5, undef}, {ACLOther, 5, undef}}, 0},
		{"unnamed ids are dropped", aclValue(2, ACLUserObj, 7, 1234), []ACLEntry{{ACLUserObj, 7, undef}}, 0},
		{"named ids are kept", aclValue(2, ACLUser, 6, 1000, ACLGroup, 5, 4),
			[]ACLEntry{{ACLUser, 6, 1000}, {ACLGroup, 5, 4}}, 0},
		{"perm bits are decoded, not checked", aclValue(2, ACLOther, 0xffff, undef), []ACLEntry{{ACLOther, 0xffff, undef}}, 0},
	} {
		got, err := DecodeACL(c.value)
		switch {
		case c.errno != 0 && (err == nil || aclErrno(err) != c.errno):
			t.Errorf("%s: err %v, want errno %v", c.name, err, c.errno)
		case c.errno == 0 && err != nil:
			t.Errorf("%s: err %v", c.name, err)
		case c.errno == 0 && !reflect.DeepEqual(got, c.want):
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	// Encoding gives back the kernel's own layout.
	entries, _ := DecodeACL(minimal)
	if got := EncodeACL(entries); !reflect.DeepEqual(got, minimal) {
		t.Errorf("EncodeACL(DecodeACL(minimal)) = %x, want %x", got, minimal)
	}
}

// Never panics on any value, whatever its length.
func TestDecodeACLAnyLength(t *testing.T) {
	for n := 0; n < 64; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*37 + n)
		}
		if n >= 4 {
			binary.LittleEndian.PutUint32(b, aclVersion)
		}
		entries, err := DecodeACL(b)
		if err == nil && entries != nil {
			_ = ValidACL(entries)
		}
	}
}

func ent(tag uint16, perm uint16, id uint32) ACLEntry { return ACLEntry{tag, perm, id} }

func TestValidACL(t *testing.T) {
	uo, gobj, o := ent(ACLUserObj, 7, undef), ent(ACLGroupObj, 5, undef), ent(ACLOther, 5, undef)
	m := ent(ACLMask, 5, undef)
	for _, c := range []struct {
		name    string
		entries []ACLEntry
		ok      bool
	}{
		{"minimal", []ACLEntry{uo, gobj, o}, true},
		{"mask without named entries", []ACLEntry{uo, gobj, m, o}, true},
		{"named user and group with mask", []ACLEntry{uo, ent(ACLUser, 7, 1000), gobj, ent(ACLGroup, 5, 4), m, o}, true},
		{"named entry without mask", []ACLEntry{uo, gobj, ent(ACLGroup, 5, 4), o}, false},
		{"user after group", []ACLEntry{uo, gobj, ent(ACLUser, 7, 1000), m, o}, false},
		{"two USER_OBJ", []ACLEntry{uo, uo, gobj, o}, false},
		{"two masks", []ACLEntry{uo, gobj, m, m, o}, false},
		{"no OTHER", []ACLEntry{uo, gobj, m}, false},
		{"entry after OTHER", []ACLEntry{uo, gobj, o, o}, false},
		{"GROUP_OBJ first", []ACLEntry{gobj, uo, o}, false},
		{"perm beyond rwx", []ACLEntry{uo, gobj, ent(ACLOther, 8, undef)}, false},
		{"empty", nil, false},
	} {
		if err := ValidACL(c.entries); (err == nil) != c.ok {
			t.Errorf("%s: ValidACL = %v, want ok %v", c.name, err, c.ok)
		}
	}
}

func singleID(id uint32, _ bool) bool { return id == 0 }

func TestReduceACL(t *testing.T) {
	uo, gobj, m, o := ent(ACLUserObj, 7, undef), ent(ACLGroupObj, 5, undef), ent(ACLMask, 7, undef), ent(ACLOther, 5, undef)
	full := []ACLEntry{uo, ent(ACLUser, 6, 0), ent(ACLUser, 7, 1000), gobj, ent(ACLGroup, 5, 4), m, o}
	kept, unmapped := ReduceACL(full, singleID)
	if want := []ACLEntry{uo, ent(ACLUser, 6, 0), gobj, m, o}; !reflect.DeepEqual(kept, want) {
		t.Errorf("kept %+v, want %+v", kept, want)
	}
	if want := []ACLEntry{ent(ACLUser, 7, 1000), ent(ACLGroup, 5, 4)}; !reflect.DeepEqual(unmapped, want) {
		t.Errorf("unmapped %+v, want %+v", unmapped, want)
	}
	if ValidACL(kept) != nil {
		t.Errorf("kept ACL %+v is not valid", kept)
	}
	// Everything mapped: nothing removed.
	kept, unmapped = ReduceACL(full, func(uint32, bool) bool { return true })
	if !reflect.DeepEqual(kept, full) || unmapped != nil {
		t.Errorf("fully mapped: kept %+v unmapped %+v", kept, unmapped)
	}
	// A group id mapped as a uid is still a group entry.
	_, unmapped = ReduceACL([]ACLEntry{uo, gobj, ent(ACLGroup, 5, 7), m, o}, func(id uint32, group bool) bool { return !group })
	if len(unmapped) != 1 {
		t.Errorf("gid checked as a uid: unmapped %+v", unmapped)
	}
}

func TestMergeACL(t *testing.T) {
	uo, gobj, m, o := ent(ACLUserObj, 7, undef), ent(ACLGroupObj, 5, undef), ent(ACLMask, 7, undef), ent(ACLOther, 5, undef)
	for _, c := range []struct {
		name             string
		kernel, recorded []ACLEntry
		want             []ACLEntry
	}{
		{"named entries back in id order", []ACLEntry{uo, ent(ACLUser, 6, 0), gobj, m, o},
			[]ACLEntry{ent(ACLUser, 7, 1000), ent(ACLGroup, 5, 4), ent(ACLGroup, 1, 2)},
			[]ACLEntry{uo, ent(ACLUser, 6, 0), ent(ACLUser, 7, 1000), gobj, ent(ACLGroup, 1, 2), ent(ACLGroup, 5, 4), m, o}},
		{"the kernel's perms and mask stand (chmod)", []ACLEntry{ent(ACLUserObj, 6, undef), gobj, ent(ACLMask, 1, undef), o},
			[]ACLEntry{ent(ACLGroup, 5, 4)},
			[]ACLEntry{ent(ACLUserObj, 6, undef), gobj, ent(ACLGroup, 5, 4), ent(ACLMask, 1, undef), o}},
		{"no mask: stale record", []ACLEntry{uo, gobj, o}, []ACLEntry{ent(ACLGroup, 5, 4)}, []ACLEntry{uo, gobj, o}},
		{"an id the kernel names wins", []ACLEntry{uo, gobj, ent(ACLGroup, 7, 4), m, o}, []ACLEntry{ent(ACLGroup, 1, 4)},
			[]ACLEntry{uo, gobj, ent(ACLGroup, 7, 4), m, o}},
	} {
		got := MergeACL(c.kernel, c.recorded)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
		if ValidACL(got) != nil {
			t.Errorf("%s: merged ACL %+v is not valid", c.name, got)
		}
	}
}

// FuzzACL: no value panics the codec; a value it accepts encodes back to
// the same entries, and a valid ACL stays valid once reduced, with the
// removed entries merged back in.
func FuzzACL(f *testing.F) {
	f.Add(journalACL)
	f.Add(rootACL)
	f.Add(aclValue(2))
	f.Add(aclValue(1, ACLUserObj, 7, undef))
	f.Add([]byte{2, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := DecodeACL(b)
		if err != nil {
			return
		}
		back, err := DecodeACL(EncodeACL(entries))
		if err != nil || len(back) != len(entries) || (len(entries) > 0 && !reflect.DeepEqual(back, entries)) {
			t.Fatalf("round trip of %+v: %+v, %v", entries, back, err)
		}
		if entries == nil || ValidACL(entries) != nil {
			return
		}
		kept, unmapped := ReduceACL(entries, singleID)
		if err := ValidACL(kept); err != nil {
			t.Fatalf("reduced %+v to the invalid %+v", entries, kept)
		}
		if err := ValidACL(MergeACL(kept, unmapped)); err != nil {
			t.Fatalf("merged %+v and %+v into an invalid ACL", kept, unmapped)
		}
	})
}
