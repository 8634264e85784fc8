package auxv

import (
	"encoding/binary"
	"fmt"

	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/shim"
)

// Auxiliary vector entries (linux/auxvec.h) that reveal credentials.
const (
	atNull   = 0
	atUID    = 11
	atEUID   = 12
	atGID    = 13
	atEGID   = 14
	atSecure = 23
)

// auxvLimit bounds how far the tracer walks a new program's stack.
const auxvLimit = 1 << 20

// Fix rewrites the credential entries of the auxiliary vector a program
// finds on its stack right after execve (argc, argv, envp, auxv from the
// stack pointer up), so that the C library sees the emulated ids: AT_UID,
// AT_EUID, AT_GID, AT_EGID, and AT_SECURE, which turns on the C library's
// secure mode after a set-user-ID exec. /proc/PID/auxv keeps the kernel's
// values.
func Fix(tid int, sp uint64, c shim.Creds, secure bool) error {
	return FixIn(ptrace.Memory{Tid: tid}, sp, c, secure)
}

// FixIn is Fix on any memory: the stack it walks is the traced
// program's, so argc, the envp terminator and the auxv entries are only
// trusted as far as auxvLimit.
func FixIn(mem shim.Memory, sp uint64, c shim.Creds, secure bool) error {
	word := make([]byte, 8)
	read := func(addr uint64) (uint64, error) {
		if err := mem.ReadAt(word, addr); err != nil {
			return 0, err
		}
		return binary.LittleEndian.Uint64(word), nil
	}
	argc, err := read(sp)
	if err != nil {
		return fmt.Errorf("read argc: %w", err)
	}
	addr := sp + 8 + 8*(argc+1) // past argv and its NULL
	for ; ; addr += 8 {         // past envp and its NULL
		if addr-sp > auxvLimit {
			return fmt.Errorf("no end of envp within %d bytes", auxvLimit)
		}
		v, err := read(addr)
		if err != nil {
			return fmt.Errorf("read envp: %w", err)
		}
		if v == 0 {
			addr += 8
			break
		}
	}
	want := map[uint64]uint64{atUID: uint64(c.UID), atEUID: uint64(c.EUID),
		atGID: uint64(c.GID), atEGID: uint64(c.EGID), atSecure: 0}
	if secure {
		want[atSecure] = 1
	}
	for ; addr-sp < auxvLimit; addr += 16 {
		typ, err := read(addr)
		if err != nil {
			return fmt.Errorf("read auxv: %w", err)
		}
		if typ == atNull {
			return nil
		}
		v, ok := want[typ]
		if !ok {
			continue
		}
		if cur, err := read(addr + 8); err == nil && cur == v {
			continue
		}
		binary.LittleEndian.PutUint64(word, v)
		if err := mem.WriteAt(word, addr+8); err != nil {
			return fmt.Errorf("write auxv entry %d: %w", typ, err)
		}
	}
	return fmt.Errorf("no end of auxv within %d bytes", auxvLimit)
}
