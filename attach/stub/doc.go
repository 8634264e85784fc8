// Package stub is the machine code the tracer maps into a traced process
// in mode full, and the region that holds it: a page of code at a fixed
// address (Addr) followed by slots of data, one per plan in progress.
//
// A fused plan hands the stub its first two system calls in a frame in its
// slot (Frame); the tracer sends the thread there (Enter) from the seccomp
// stop. The stub makes the first call and, when the result is one the
// plan's rule lets through, the second, and returns to the caller as the
// call would; otherwise it makes the trap call (TrapNr), a seccomp stop at
// which the tracer carries on (FrameOf, FrameRes1, ...). The seccomp
// filter lets calls from the stub's page through and traces its trap call.
//
// What is in the code and where things lie is here; which slot is whose,
// and when a thread is sent to the stub, is package attach's.
package stub
