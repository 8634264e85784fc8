package shim

import (
	"encoding/binary"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// imageEnv is mode full where the image gives /etc/shadow (dev 7, ino 9)
// the owner 0:42. Files methods the plans below do not use are the
// embedded nil interface's.
type imageEnv struct {
	fakeEnv
	images OwnerSource
}

type imageFiles struct {
	Files
	images OwnerSource
}

type imageTable map[[2]uint64]FileOwner

func (t imageTable) ImageOwner(dev, ino uint64) (FileOwner, bool) {
	o, ok := t[[2]uint64{dev, ino}]
	return o, ok
}

func (e imageEnv) Files() Files                             { return imageFiles{images: e.images} }
func (imageFiles) Special(uint64, uint64) (FileOwner, bool) { return FileOwner{}, false }
func (imageFiles) SetSpecial(uint64, uint64, FileOwner)     {}
func (imageFiles) HasSpecial() bool                         { return false }
func (imageFiles) Missing(uintptr) bool                     { return false }
func (imageFiles) Malformed([]byte, error)                  {}
func (f imageFiles) ImageOwners() OwnerSource               { return f.images }

var shadowImage = imageTable{{7, 9}: {UID: 0, GID: 42}}

// Addresses in an image test's memory: the path, the caller's stat buffer,
// then the scratch area (fakeEnv.Scratch).
const (
	imgPathAddr = base
	imgBufAddr  = base + 256
)

func imageMemory() *fakeMemory {
	m := &fakeMemory{base: base, buf: make([]byte, 2048+ScratchSize)}
	copy(m.buf[imgPathAddr-base:], "/etc/shadow\x00")
	return m
}

// kernelStat writes what the kernel's stat of (dev, ino) gives: a regular
// file of 0:0.
func kernelStat(m *fakeMemory, addr, dev, ino uint64) {
	b := make([]byte, statSize)
	binary.LittleEndian.PutUint64(b[statDev:], dev)
	binary.LittleEndian.PutUint64(b[statIno:], ino)
	binary.LittleEndian.PutUint32(b[statMode:], unix.S_IFREG|0o640)
	m.WriteAt(b, addr)
}

func TestStatImageOwner(t *testing.T) {
	stat := call(unix.SYS_NEWFSTATAT, uint64(fdcwd), imgPathAddr, imgBufAddr, 0)
	for _, c := range []struct {
		name     string
		dev, ino uint64
		want     FileOwner
	}{
		{"a file of the image", 7, 9, FileOwner{0, 42}},
		{"another file", 7, 10, FileOwner{0, 0}},
	} {
		t.Run(c.name+", fused", func(t *testing.T) {
			m := imageMemory()
			env := imageEnv{images: shadowImage}
			_, out := Emulate(Root(all), stat, m, env)
			if out.Kind != Steps {
				t.Fatalf("%+v, want a plan", out)
			}
			out.Plan.Next(0) // the xattr lookup
			fp, ok := out.Plan.(FusablePlan)
			if !ok {
				t.Fatal("not a fused plan")
			}
			_, rule, ok := fp.Fuse()
			if !ok || rule.InoAddr != imgBufAddr+statIno || rule.ModeAddr != 0 {
				t.Fatalf("rule %+v, want the stat's inode looked up in the image filter", rule)
			}
			kernelStat(m, imgBufAddr, c.dev, c.ino)
			if res := fp.Fused(0); res != 0 {
				t.Fatalf("Fused: %d", res)
			}
			if got := (FileOwner{m.u32(imgBufAddr + statUID), m.u32(imgBufAddr + statGID)}); got != c.want {
				t.Errorf("owner %v, want %v", got, c.want)
			}
		})
		t.Run(c.name+", step by step", func(t *testing.T) {
			m := imageMemory()
			_, out := Emulate(Root(all), stat, m, imageEnv{images: shadowImage})
			out.Plan.Next(0)
			st, _ := out.Plan.Next(-int64(unix.ENODATA)) // no record
			if st == nil || st.Direct {
				t.Fatalf("step %+v, want the stat, traced", st)
			}
			kernelStat(m, imgBufAddr, c.dev, c.ino)
			if next, res := out.Plan.Next(0); next != nil || res != 0 {
				t.Fatalf("after the stat: %+v %d", next, res)
			}
			if got := (FileOwner{m.u32(imgBufAddr + statUID), m.u32(imgBufAddr + statGID)}); got != c.want {
				t.Errorf("owner %v, want %v", got, c.want)
			}
		})
	}
}

func TestStatWithoutImageOwnersKeepsOneStop(t *testing.T) {
	m := imageMemory()
	_, out := Emulate(Root(all), call(unix.SYS_NEWFSTATAT, uint64(fdcwd), imgPathAddr, imgBufAddr, 0), m, imageEnv{})
	out.Plan.Next(0)
	_, rule, ok := out.Plan.(FusablePlan).Fuse()
	if !ok || rule.ModeAddr != 0 {
		t.Errorf("rule %+v, want no coming back", rule)
	}
}

func TestChownToRootOfAnImageFileIsRecorded(t *testing.T) {
	chown := call(unix.SYS_FCHOWNAT, uint64(fdcwd), imgPathAddr, 0, 0, 0)
	for _, c := range []struct {
		name   string
		images OwnerSource
		want   uintptr
		flags  uint64 // the setxattr's
	}{
		// Always recorded: no record means the image's owner.
		{"image owners", shadowImage, unix.SYS_SETXATTR, 0},
		// Only a record that exists becomes 0:0 (a device node's record
		// stays readable behind it); none is made.
		{"none", nil, unix.SYS_SETXATTR, unix.XATTR_REPLACE},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := imageMemory()
			_, out := Emulate(Root(all), chown, m, imageEnv{images: c.images})
			if out.Kind != Steps {
				t.Fatalf("%+v, want a plan", out)
			}
			st, _ := out.Plan.Next(0)
			if st == nil || st.Nr != c.want {
				t.Fatalf("step %+v, want call %d", st, c.want)
			}
			if st.Args[4] != c.flags {
				t.Errorf("setxattr flags %#x, want %#x", st.Args[4], c.flags)
			}
			if c.want == unix.SYS_SETXATTR {
				o, err := DecodeOwner(stepValue(t, m, st))
				if v := stepValue(t, m, st); err != nil || o != (FileOwner{}) || len(v) == 0 {
					t.Errorf("record %x (%v), want an explicit 0:0", v, err)
				}
			}
		})
	}
}

func TestChownOfAnImageFileStartsFromItsOwner(t *testing.T) {
	// chown -1:5 (group only) of /etc/shadow, 0:42 in the image: 0:5.
	m := imageMemory()
	minus1 := uint64(NoID)
	_, out := Emulate(Root(all), call(unix.SYS_FCHOWNAT, uint64(fdcwd), imgPathAddr, minus1, 5, 0), m, imageEnv{images: shadowImage})
	out.Plan.Next(0)                                 // the xattr lookup
	out.Plan.Next(-int64(unix.ENODATA))              // no record: the stat
	kernelStat(m, fakeEnv{}.Scratch()+scrStat, 7, 9) // what the stat finds
	st, _ := out.Plan.Next(0)
	if st == nil || st.Nr != unix.SYS_SETXATTR {
		t.Fatalf("step %+v, want the record written", st)
	}
	if o, _ := DecodeOwner(stepValue(t, m, st)); o != (FileOwner{0, 5}) {
		t.Errorf("record %v, want 0:5", o)
	}

	// chown 7:-1 of it: 7:42, the image's group kept.
	m = imageMemory()
	_, out = Emulate(Root(all), call(unix.SYS_FCHOWNAT, uint64(fdcwd), imgPathAddr, 7, minus1, 0), m, imageEnv{images: shadowImage})
	out.Plan.Next(0)
	out.Plan.Next(-int64(unix.ENODATA))
	kernelStat(m, fakeEnv{}.Scratch()+scrStat, 7, 9)
	st, _ = out.Plan.Next(0)
	if o, _ := DecodeOwner(stepValue(t, m, st)); st == nil || o != (FileOwner{7, 42}) {
		t.Errorf("record %v, want 7:42", o)
	}
}

// fdImageFiles answers a descriptor's stat with a regular file (dev, ino)
// of 0:0 without an owner record.
type fdImageFiles struct {
	imageFiles
	dev, ino uint64
}

func (f fdImageFiles) StatFD(int, bool, int, uint32) ([]byte, error) {
	m := &fakeMemory{base: 0, buf: make([]byte, statSize)}
	kernelStat(m, 0, f.dev, f.ino)
	return m.buf, nil
}
func (fdImageFiles) FDOwner(int) (FileOwner, bool) { return FileOwner{}, false }

type fdImageEnv struct {
	fakeEnv
	files fdImageFiles
}

func (e fdImageEnv) Files() Files { return e.files }

func TestFstatImageOwner(t *testing.T) {
	for _, c := range []struct {
		ino  uint64
		want FileOwner
	}{{9, FileOwner{0, 42}}, {10, FileOwner{0, 0}}} {
		m := imageMemory()
		env := fdImageEnv{files: fdImageFiles{imageFiles{images: shadowImage}, 7, c.ino}}
		_, out := Emulate(Root(all), call(unix.SYS_FSTAT, 3, imgBufAddr), m, env)
		if out.Kind != Return || out.Value != 0 {
			t.Fatalf("%+v, want 0", out)
		}
		if got := (FileOwner{m.u32(imgBufAddr + statUID), m.u32(imgBufAddr + statGID)}); got != c.want {
			t.Errorf("inode %d: owner %v, want %v", c.ino, got, c.want)
		}
	}
}

// TestChownToRootOfAnImageSymlinkComesBack: a privileged chown to 0:0 whose
// xattr write a symlink refuses (EPERM) ends there only when no image gives
// owners; with image owners it comes back to the plan, which records 0:0
// in the table of special files over the image's owner.
func TestChownToRootOfAnImageSymlinkComesBack(t *testing.T) {
	chown := call(unix.SYS_FCHOWNAT, uint64(fdcwd), imgPathAddr, 0, 0, unix.AT_SYMLINK_NOFOLLOW)
	for _, c := range []struct {
		name       string
		images     OwnerSource
		endsOnPerm bool
	}{
		{"image owners", shadowImage, false},
		{"none", nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, out := Emulate(Root(all), chown, imageMemory(), imageEnv{images: c.images})
			if out.Kind != Steps {
				t.Fatalf("%+v, want a plan", out)
			}
			out.Plan.Next(0)
			_, rule, ok := out.Plan.(FusablePlan).Fuse()
			if !ok {
				t.Fatal("not fused")
			}
			if got := slices.Contains(rule.Also, unix.EPERM); got != c.endsOnPerm {
				t.Errorf("rule %+v: EPERM ends the plan %v, want %v", rule, got, c.endsOnPerm)
			}
		})
	}
}
