package imagestore

import "testing"

const testMountinfo = `22 1 254:0 / / rw,relatime - ext4 /dev/vda rw
23 22 254:1 / /home rw,relatime - ext4 /dev/vdb rw
90 22 254:1 /u/.local/share/containers/storage/vfs/dir/abc /var/tmp/buildah1/mnt/rootfs rw - ext4 /dev/vdb rw
91 22 0:50 / /g/overlay/def/merged rw - overlay overlay rw,lowerdir=/g/overlay/l/X,upperdir=/g/overlay/def/diff,workdir=/g/overlay/def/work
92 22 0:50 / /var/tmp/buildah2/mnt/rootfs rw - overlay overlay rw,lowerdir=/g/overlay/l/X,upperdir=/g/overlay/def/diff,workdir=/g/overlay/def/work
93 22 254:0 /with\040space /mnt/a\040b rw - ext4 /dev/vda rw
`

func TestMountSource(t *testing.T) {
	for point, want := range map[string]string{
		"/var/tmp/buildah1/mnt/rootfs": "/home/u/.local/share/containers/storage/vfs/dir/abc",
		"/g/overlay/def/merged":        "/g/overlay/def/merged",
		"/var/tmp/buildah2/mnt/rootfs": "/g/overlay/def/merged",
		"/g/vfs/dir/abc":               "/g/vfs/dir/abc",
		"/mnt/a b":                     "/with space",
	} {
		if got := MountSource([]byte(testMountinfo), point); got != want {
			t.Errorf("%s: got %s, want %s", point, got, want)
		}
	}
}
