package attach

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Facts about the host that decide whether a ptrace attach is allowed
// beyond ids and capabilities: Yama's ptrace_scope and the active LSMs.
// The hook's failure message (hook/diagnose.go) and `remainroot doctor`
// both read them from here.

// YamaScopeFile holds Yama's ptrace_scope; it is absent without Yama.
const YamaScopeFile = "/proc/sys/kernel/yama/ptrace_scope"

// Yama scope values beyond the kernel's 0-3.
const (
	YamaAbsent     = -1 // no Yama in this kernel
	YamaUnreadable = -2 // the file exists but could not be read or parsed
)

// YamaScope reads kernel.yama.ptrace_scope: 0-3, YamaAbsent or YamaUnreadable.
func YamaScope() int {
	b, err := os.ReadFile(YamaScopeFile)
	if errors.Is(err, fs.ErrNotExist) {
		return YamaAbsent
	}
	if err != nil {
		return YamaUnreadable
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return YamaUnreadable
	}
	return n
}

// YamaRule says, for a ptrace_scope value, which attaches Yama allows.
func YamaRule(scope int) string {
	switch scope {
	case 0:
		return "adds no restriction"
	case 1:
		return "lets only an ancestor or a holder of CAP_SYS_PTRACE attach"
	case 2:
		return "lets only a holder of CAP_SYS_PTRACE attach"
	case 3:
		return "forbids every ptrace attach until reboot"
	}
	return "is an unknown value"
}

// ActiveLSMs lists the active LSMs, from securityfs when it is mounted,
// else from the traces AppArmor and SELinux leave elsewhere; nil when
// unknown (or neither of those two is found).
func ActiveLSMs() []string {
	if b, err := os.ReadFile("/sys/kernel/security/lsm"); err == nil {
		return strings.Split(strings.TrimSpace(string(b)), ",")
	}
	var lsms []string
	if b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil && strings.TrimSpace(string(b)) == "Y" {
		lsms = append(lsms, "apparmor")
	}
	if _, err := os.Stat("/sys/fs/selinux/enforce"); err == nil {
		lsms = append(lsms, "selinux")
	}
	return lsms
}

// PtraceLSMs are the LSMs able to refuse a ptrace attach.
var PtraceLSMs = []string{"apparmor", "selinux", "smack", "landlock", "bpf"}

// The case where a ptrace attach fails for want of CAP_SYS_PTRACE in the
// container's user namespace, as the hook's failure message and doctor's
// runtime check both name it, and its remedy.
const (
	BareRootlessCrun       = "bare rootless crun, which creates the container's user namespace itself"
	BareRootlessCrunRemedy = "run the container through rootless podman, or as root, or with runc"
)
