package stub

// Where the in-process route's SIGSYS handler lies in every process that
// has it (package attach/route/inprocess builds it and maps it): its code
// page at the start of the 4 GiB block after the stub's, so that a filter
// tests only the low word of an instruction pointer inside it, and the
// address after its asking call's syscall instruction. The filters
// (package seccomp) let the handler's own calls run, and dispatch its
// asking call as the program's.
const (
	HandlerAddr  = 0x3e3f00000000
	HandlerSize  = 4096
	HandlerAskIP = HandlerAddr + 0x19
)
