package shim

// archSyscalls: arm64 has only fchown and fchownat.
var archSyscalls = []Syscall{}
