// Package integration runs real programs under the remainroot tracer and
// compares them with the real kernel: the probe as real root in a user
// namespace that maps every id against the same probe under `remainroot
// run` as fake root in a single-id namespace, multi-threaded C and Go
// programs, busybox su, pipelines, signals and job control, attach, the
// hook as each runtime calls it, and mode full's safety.
package integration
