package inprocess

import (
	"encoding/binary"
	"fmt"

	"github.com/remainroot/remainroot/attach/seccomp"
	"github.com/remainroot/remainroot/shim"
)

// dataVersion is the handler's DATA_VERSION: a data page of another
// version makes it treat every SIGSYS as not the layer's.
const dataVersion = 1

// The data page's layout, the handler's struct data (its _Static_asserts
// say the same: TestDataLayoutMatchesSource).
const (
	dataVersionOff     = 0
	dataTemplatesOff   = 8
	dataTmplOff        = 16
	tmplSize           = 24
	maxTemplates       = 16
	dataNameOff        = 400
	dataNameSize       = 32
	dataEmptyOff       = 432
	dataFilterAddrOff  = 440
	dataFilterShiftOff = 448
	dataFilterAllOff   = 456
	dataSpecialOff     = 464
	dataFastOff        = 472
	dataAskedOff       = 480
	dataNoXattratOff   = 488
	dataProgActionOff  = 496
	dataNodeNameOff    = 528
	dataEnd            = 560
)

// argNone in a template's operand means the operand is not an argument of
// the call: the directory is AT_FDCWD, the path "", the flags the
// template's FixedFlags.
const argNone = 0xff

// kind says what the handler does with a call.
type kind uint8

// The kinds of call (the handler's KIND_*).
const (
	// kindStat is the stat family: the owner record lookup, the call,
	// the image filter (shim's statPlan, fused).
	kindStat kind = 1
	// kindSigaction is rt_sigaction: SIGSYS's action is the program's
	// in the data page only, every other action's mask loses SIGSYS.
	kindSigaction kind = 2
	// kindSigprocmask is rt_sigprocmask, made on the signal frame's mask.
	kindSigprocmask kind = 3
	// kindMaskArg is a call with a temporary mask in argument Buf,
	// made with SIGSYS out of it; kindPselect is pselect6's, behind it.
	kindMaskArg kind = 4
	kindPselect kind = 5
)

// template is where a call's operands are, for the handler: one of the
// handler's struct tmpl.
type template struct {
	Nr   int32
	Kind kind
	// IfArg: the layer traps the call only when this argument is not 0
	// (a mask to set); -1: always. The filter's, not the handler's.
	IfArg      int8
	Dfd        uint8 // argument index or argNone
	Path       uint8
	Flags      uint8
	Buf        uint8
	FixedFlags uint32
	InoOff     uint16 // where the result holds the inode number,
	ModeOff    uint16 // the mode,
	UIDOff     uint16 // and the owner
	GIDOff     uint16
}

// Data is what the handler of one process reads.
type Data struct {
	// Filter is the image filter mapped at FilterAddr; empty: no image
	// owners (FilterAll false) or unknown (FilterAll true).
	FilterAddr  uint64
	FilterShift uint64
	// FilterAll makes every successful stat ask: the image may give any
	// object an owner and there is no filter to tell which.
	FilterAll bool
	// Special: the trace has special files with owners (shim's
	// Files.HasSpecial), so a stat of anything but a regular file or a
	// directory asks.
	Special bool
}

// Bytes lays out the data page with the templates of this architecture.
func (d Data) Bytes() ([]byte, error) {
	b := make([]byte, DataSize)
	put := func(off int, v uint64) { binary.LittleEndian.PutUint64(b[off:], v) }
	tmpls := templates()
	if len(tmpls) > maxTemplates {
		return nil, fmt.Errorf("in-process handler: %d templates, room for %d", len(tmpls), maxTemplates)
	}
	put(dataVersionOff, dataVersion)
	put(dataTemplatesOff, uint64(len(tmpls)))
	for i, t := range tmpls {
		o := dataTmplOff + i*tmplSize
		binary.LittleEndian.PutUint32(b[o:], uint32(t.Nr))
		b[o+4], b[o+5], b[o+6], b[o+7], b[o+8] = byte(t.Kind), t.Dfd, t.Path, t.Flags, t.Buf
		binary.LittleEndian.PutUint32(b[o+12:], t.FixedFlags)
		binary.LittleEndian.PutUint16(b[o+16:], t.InoOff)
		binary.LittleEndian.PutUint16(b[o+18:], t.ModeOff)
		binary.LittleEndian.PutUint16(b[o+20:], t.UIDOff)
		binary.LittleEndian.PutUint16(b[o+22:], t.GIDOff)
	}
	if len(shim.OwnerXattr) >= dataNameSize {
		return nil, fmt.Errorf("in-process handler: xattr name %q too long", shim.OwnerXattr)
	}
	copy(b[dataNameOff:], shim.OwnerXattr)
	if len(shim.NodeXattr) >= dataNameSize {
		return nil, fmt.Errorf("in-process handler: xattr name %q too long", shim.NodeXattr)
	}
	copy(b[dataNodeNameOff:], shim.NodeXattr)
	if d.FilterAddr != 0 {
		put(dataFilterAddrOff, d.FilterAddr)
		put(dataFilterShiftOff, d.FilterShift)
	}
	if d.FilterAll {
		put(dataFilterAllOff, 1)
	}
	if d.Special {
		put(dataSpecialOff, 1)
	}
	return b, nil
}

// Counts are the handler's counters, read from its data page.
type Counts struct {
	Fast  uint64 // calls it answered itself
	Asked uint64 // calls it asked the supervisor
	// NoGetxattrat: the handler found getxattrat missing (the kernel's
	// or the container's profile's ENOSYS) and uses the classic calls.
	NoGetxattrat bool
}

// CountsOf reads the counters of a data page.
func CountsOf(page []byte) Counts {
	if len(page) < dataEnd {
		return Counts{}
	}
	return Counts{Fast: binary.LittleEndian.Uint64(page[dataFastOff:]),
		Asked:        binary.LittleEndian.Uint64(page[dataAskedOff:]),
		NoGetxattrat: binary.LittleEndian.Uint64(page[dataNoXattratOff:]) != 0}
}

// Traps returns the calls the layer traps: the table's.
func Traps() []seccomp.Trap {
	var traps []seccomp.Trap
	for _, t := range templates() {
		traps = append(traps, seccomp.Trap{Nr: uint32(t.Nr), IfArg: int(t.IfArg)})
	}
	return traps
}
