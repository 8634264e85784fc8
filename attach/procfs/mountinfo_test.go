package procfs

import "testing"

func TestMountReadOnly(t *testing.T) {
	cases := []struct {
		line   string
		id     uint64
		ro, ok bool
	}{
		{"36 35 98:0 /mnt1 /mnt1 rw,noatime master:1 - ext3 /dev/root rw,errors=continue", 36, false, true},
		{"36 35 98:0 /mnt1 /mnt1 ro,noatime master:1 - ext3 /dev/root rw,errors=continue", 36, true, true},
		{"37 35 98:0 / /ro-sb rw,relatime - squashfs /dev/loop0 ro", 37, true, true},
		{"38 35 0:5 / /dev rw,nosuid shared:2 master:3 - devtmpfs udev rw,size=10k", 38, false, true},
		{"38 35 0:5 / /dev rw,nosuid - devtmpfs udev rw", 39, false, false},
		{"garbage", 1, false, false},
	}
	for _, c := range cases {
		if ro, ok := MountReadOnly(c.line, c.id); ro != c.ro || ok != c.ok {
			t.Errorf("%q id %d: got %v %v, want %v %v", c.line, c.id, ro, ok, c.ro, c.ok)
		}
	}
}
