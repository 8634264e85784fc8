package attach

import "github.com/remainroot/remainroot/attach/procfs"

// statusField is procfs.StatusField under the name doctor_kernel_test.go
// knows it by, until that test moves to package doctor.
var statusField = procfs.StatusField
