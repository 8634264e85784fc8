package inprocess

import _ "embed"

// The handler's source and linker script, built by buildHandler (gcc and
// GNU ld, which the tests need anyway) and compared with Code.
//
//go:embed csrc/handler_amd64.c
var source string

//go:embed csrc/handler.ld
var linkerScript string

// HandlerAddr is where the handler's code page is mapped (read and
// execute): the start of a 4 GiB block, so that the filter layer tests
// only the low word of an instruction pointer inside it, and the block
// after the stub's (stub.Addr).
const HandlerAddr = 0x3e3f00000000

// CodeSize is the size of the code mapping.
const CodeSize = 4096

// DataAddr is the data page's address (read and write), right after the
// code: the handler's DATA_ADDR.
const DataAddr = HandlerAddr + CodeSize

// DataSize is the size of the data mapping.
const DataSize = 4096

// TrapData is the SECCOMP_RET_DATA of the layer's traps, which the
// handler finds in si_errno: a SIGSYS with another is not the layer's.
const TrapData = 0x5252

// Offsets of the handler's entry points in Code (TestHandlerSymbols
// checks them against the linked blob's symbols).
const (
	askReturnOffset = 0x19 // after rr_ask's syscall: the call the layer notifies
	restorerOffset  = 0x1a // rr_restorer: rt_sigreturn, the handler's sa_restorer
	entryOffset     = 0x23 // rr_entry: a jump to the handler, rr_sigsys
)

// AskIP is the instruction pointer the filter sees for the handler's
// asked calls.
const AskIP = HandlerAddr + askReturnOffset

// Entry and Restorer are the sa_handler and sa_restorer of the handler's
// sigaction.
const (
	Entry    = HandlerAddr + entryOffset
	Restorer = HandlerAddr + restorerOffset
)
