// Package inject makes a stopped tracee run a system call of the
// tracer's choosing (seccomp(2) to install a filter, close(2), mmap(2) for
// the stub's region) and then carry on exactly where it was: it borrows a
// system call instruction from the vDSO, sets the registers, steps the
// thread through the call's entry and exit stops, and puts the registers
// back.
package inject
