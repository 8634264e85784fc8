package inprocess

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/shim"
)

// The model's fakes: one flat address space, and mode full's files with
// special owners and an image, so that every rule of a stat plan shows.

type flatMemory struct {
	base uint64
	buf  []byte
}

func (m *flatMemory) ReadAt(p []byte, addr uint64) error {
	if addr < m.base || addr+uint64(len(p)) > m.base+uint64(len(m.buf)) {
		return unix.EFAULT
	}
	copy(p, m.buf[addr-m.base:])
	return nil
}

func (m *flatMemory) WriteAt(p []byte, addr uint64) error {
	if addr < m.base || addr+uint64(len(p)) > m.base+uint64(len(m.buf)) {
		return unix.EFAULT
	}
	copy(m.buf[addr-m.base:], p)
	return nil
}

type modelEnv struct{ files *modelFiles }

func (modelEnv) Tid() int                                        { return 100 }
func (modelEnv) CredsOf(int) (shim.Creds, bool)                  { return shim.Creds{}, false }
func (modelEnv) Scratch() uint64                                 { return memBase + 4096 }
func (e modelEnv) Files() shim.Files                             { return e.files }
func (modelEnv) Mapped(id uint32, _ bool) bool                   { return id == 0 }
func (modelEnv) NoNewPrivs() bool                                { return false }
func (modelEnv) ReadOnlyMount(uint64) bool                       { return false }
func (noImage) ImageOwner(uint64, uint64) (shim.FileOwner, bool) { return shim.FileOwner{}, false }

type noImage struct{}

// modelFiles is mode full with special owners and an image; the
// descriptor-based methods record the descriptor they were given.
type modelFiles struct {
	shim.Files
	fds []int
}

func (*modelFiles) Special(uint64, uint64) (shim.FileOwner, bool) { return shim.FileOwner{}, false }
func (*modelFiles) SetSpecial(uint64, uint64, shim.FileOwner)     {}
func (*modelFiles) HasSpecial() bool                              { return true }
func (*modelFiles) ImageOwners() shim.OwnerSource                 { return noImage{} }
func (*modelFiles) Missing(uintptr) bool                          { return false }
func (*modelFiles) Malformed([]byte, error)                       {}
func (f *modelFiles) FDOwner(fd int) (shim.FileOwner, bool) {
	f.fds = append(f.fds, fd)
	return shim.FileOwner{}, false
}
func (f *modelFiles) FDNode(fd int) (shim.Node, bool) { return shim.Node{}, false }
func (f *modelFiles) StatFD(fd int, statx bool, _ int, _ uint32) ([]byte, error) {
	f.fds = append(f.fds, fd)
	if statx {
		return make([]byte, 256), nil
	}
	return make([]byte, 144), nil
}

const (
	memBase  = 0x10000
	pathAddr = memBase       // "name"
	bufAddr  = memBase + 512 // the caller's buffer
)

// Each template finds the operands the model reads for its call: the
// owner lookup's directory, path and flags are those of shim's first
// step (or the descriptor its fd stat uses), and the inode and mode the
// handler reads lie where the fused rule's InoAddr and ModeAddr point.
func TestTemplatesAreTheModels(t *testing.T) {
	for _, tmpl := range templates() {
		if tmpl.Kind != kindStat {
			continue
		}
		var args [6]uint64
		for i := range args {
			args[i] = 0x5eed0000 + uint64(i) // nothing in particular
		}
		if tmpl.Dfd != argNone {
			args[tmpl.Dfd] = 7
		}
		if tmpl.Path != argNone {
			args[tmpl.Path] = pathAddr
		}
		if tmpl.Flags != argNone {
			args[tmpl.Flags] = unix.AT_SYMLINK_NOFOLLOW | unix.AT_STATX_DONT_SYNC
		}
		args[tmpl.Buf] = bufAddr
		wantDfd, wantPath, wantFlags := uint64(0), uint64(0), uint64(tmpl.FixedFlags)
		wantDfd = uint64(0xffffffffffffff9c) // AT_FDCWD
		if tmpl.Dfd != argNone {
			wantDfd = args[tmpl.Dfd]
		}
		if tmpl.Path != argNone {
			wantPath = args[tmpl.Path]
		}
		if tmpl.Flags != argNone {
			wantFlags = args[tmpl.Flags]
		}
		m := &flatMemory{base: memBase, buf: make([]byte, 4096+shim.ScratchSize)}
		copy(m.buf[pathAddr-memBase:], "name\x00")
		files := &modelFiles{}
		_, out := shim.Emulate(shim.Root(^shim.CapSet(0)), shim.Call{Nr: uintptr(tmpl.Nr), Args: args}, m, modelEnv{files})

		if tmpl.Path == argNone {
			// A descriptor's stat: the model stats and reads the record
			// of the descriptor itself, in one stop.
			if len(files.fds) == 0 || files.fds[0] != int(int32(wantDfd)) {
				t.Errorf("call %d: the model used descriptors %v, the template %d", tmpl.Nr, files.fds, int32(wantDfd))
			}
			if tmpl.FixedFlags != unix.AT_EMPTY_PATH {
				t.Errorf("call %d: a descriptor's template needs AT_EMPTY_PATH", tmpl.Nr)
			}
			continue
		}
		if out.Kind != shim.Steps {
			t.Errorf("call %d: outcome %+v, want a plan", tmpl.Nr, out)
			continue
		}
		first, _ := out.Plan.Next(0)
		nofollow := wantFlags&unix.AT_SYMLINK_NOFOLLOW != 0
		switch {
		case first == nil:
			t.Errorf("call %d: no first step", tmpl.Nr)
			continue
		case first.Nr == unix.SYS_GETXATTRAT:
			if first.Args[0] != wantDfd || first.Args[1] != wantPath ||
				first.Args[2] != wantFlags&(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) {
				t.Errorf("call %d: the model looks up (%#x, %#x, %#x), the template (%#x, %#x, %#x)", tmpl.Nr,
					first.Args[0], first.Args[1], first.Args[2], wantDfd, wantPath, wantFlags)
			}
		case first.Nr == unix.SYS_GETXATTR || first.Nr == unix.SYS_LGETXATTR:
			// A path from the working directory: the classic call, which
			// follows a last symlink unless it is lgetxattr.
			if int32(wantDfd) != unix.AT_FDCWD || first.Args[0] != wantPath || (first.Nr == unix.SYS_LGETXATTR) != nofollow {
				t.Errorf("call %d: the model looks up %+v, the template (%#x, %#x, %#x)", tmpl.Nr, first, wantDfd, wantPath, wantFlags)
			}
		default:
			t.Errorf("call %d: first step %+v, want an owner lookup", tmpl.Nr, first)
			continue
		}
		fp, ok := out.Plan.(shim.FusablePlan)
		if !ok {
			t.Errorf("call %d: the model's plan cannot be fused", tmpl.Nr)
			continue
		}
		_, rule, ok := fp.Fuse()
		if !ok {
			t.Errorf("call %d: no fused rule", tmpl.Nr)
			continue
		}
		if rule.InoAddr != bufAddr+uint64(tmpl.InoOff) || rule.ModeAddr != bufAddr+uint64(tmpl.ModeOff) {
			t.Errorf("call %d: the model reads the inode at %#x and the mode at %#x, the template at %#x and %#x",
				tmpl.Nr, rule.InoAddr, rule.ModeAddr, bufAddr+uint64(tmpl.InoOff), bufAddr+uint64(tmpl.ModeOff))
		}
	}
}
