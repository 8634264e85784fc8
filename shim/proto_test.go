package shim

import (
	"bytes"
	"testing"
)

func TestOwnerProto(t *testing.T) {
	cases := []struct {
		o    FileOwner
		want []byte
	}{
		{FileOwner{}, nil},
		{FileOwner{UID: 1000, GID: 1000}, []byte{0x08, 0xe8, 0x07, 0x10, 0xe8, 0x07}},
		{FileOwner{UID: 0, GID: 5}, []byte{0x10, 0x05}},
		{FileOwner{UID: 4294967294}, []byte{0x08, 0xfe, 0xff, 0xff, 0xff, 0x0f}},
	}
	for _, c := range cases {
		got := EncodeOwner(c.o)
		if !bytes.Equal(got, c.want) {
			t.Errorf("EncodeOwner(%+v) = %x, want %x", c.o, got, c.want)
		}
		back, err := DecodeOwner(got)
		if err != nil || back != c.o {
			t.Errorf("DecodeOwner(%x) = %+v, %v", got, back, err)
		}
	}
	// 0xFFFFFFFF means unchanged: 0.
	if o, err := DecodeOwner([]byte{0x08, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x10, 0x07}); err != nil || o != (FileOwner{0, 7}) {
		t.Errorf("NoID uid: %+v %v", o, err)
	}
	// An unknown length-delimited field is skipped.
	if o, err := DecodeOwner([]byte{0x1a, 0x02, 'h', 'i', 0x08, 0x03}); err != nil || o.UID != 3 {
		t.Errorf("unknown field: %+v %v", o, err)
	}
	if _, err := DecodeOwner([]byte{0x08}); err == nil {
		t.Error("truncated varint accepted")
	}
	if got := (FileOwner{1, 2}).Merge(NoID, 9); got != (FileOwner{1, 9}) {
		t.Errorf("merge: %+v", got)
	}
}
