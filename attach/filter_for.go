package attach

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/procfs"
	"github.com/remainroot/remainroot/attach/seccomp"
)

// FilterFor chooses the filter to inject into a running process. The getter
// filter can be added lazily only while the process may still load filters
// (CAP_SYS_ADMIN in its user namespace, or no_new_privs); otherwise getters
// are traced from the start.
func FilterFor(pid int) seccomp.Filter {
	eff, err := procfs.StatusField(pid, "CapEff")
	nnp, _ := procfs.StatusField(pid, "NoNewPrivs")
	var caps uint64
	if err == nil {
		fmt.Sscanf(eff, "%x", &caps)
	}
	if caps&(1<<unix.CAP_SYS_ADMIN) != 0 || nnp == "1" {
		return seccomp.SetterFilter
	}
	return seccomp.FullFilter
}
