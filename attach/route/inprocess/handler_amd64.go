package inprocess

import _ "embed"

// The handler's source and linker script, built by buildHandler (gcc and
// GNU ld, which the tests need anyway) and compared with Code.
//
//go:embed csrc/handler_amd64.c
var source string

//go:embed csrc/handler.ld
var linkerScript string

// Supported: the handler is built for this architecture.
const Supported = true

// Offsets of the handler's entry points in Code (TestHandlerSymbols
// checks them against the linked blob's symbols).
const (
	askReturnOffset = 0x19 // after rr_ask's syscall: the call the layer notifies
	restorerOffset  = 0x1a // rr_restorer: rt_sigreturn, the handler's sa_restorer
	entryOffset     = 0x23 // rr_entry: a jump to the handler, rr_sigsys
)

// Entry and Restorer are the sa_handler and sa_restorer of the handler's
// sigaction.
const (
	Entry    = HandlerAddr + entryOffset
	Restorer = HandlerAddr + restorerOffset
)
