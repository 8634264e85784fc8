package inprocess

import "github.com/remainroot/remainroot/attach/stub"

// HandlerAddr is where the handler's code page is mapped (read and
// execute): the start of a 4 GiB block, so that the filter layer tests
// only the low word of an instruction pointer inside it, and the block
// after the stub's (stub.Addr).
const HandlerAddr = stub.HandlerAddr

// CodeSize is the size of the code mapping.
const CodeSize = stub.HandlerSize

// AskIP is the instruction pointer the filters see for the handler's
// asked calls: the process's own filter notifies them.
const AskIP = stub.HandlerAskIP

// DataAddr is the data page's address (read and write), right after the
// code: the handler's DATA_ADDR.
const DataAddr = HandlerAddr + CodeSize

// DataSize is the size of the data mapping.
const DataSize = 4096

// TrapData is the SECCOMP_RET_DATA of the layer's traps, which the
// handler finds in si_errno: a SIGSYS with another is not the layer's.
const TrapData = 0x5252
