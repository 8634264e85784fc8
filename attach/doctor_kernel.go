package attach

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/doctor"
)

// What `remainroot doctor` asks of the kernel: the seccomp and ptrace
// facilities this package uses, probed without installing anything.

// KernelFacts is what the kernel checks look at.
type KernelFacts struct {
	Release string // uname -r

	TraceAction  error // SECCOMP_GET_ACTION_AVAIL of SECCOMP_RET_TRACE
	NotifyAction error // ... of SECCOMP_RET_USER_NOTIF

	// Flags of seccomp(SECCOMP_SET_MODE_FILTER) the kernel refuses (EINVAL).
	MissingFlags []string
	FlagsErr     error // the probe itself failed otherwise (e.g. seccomp refused)

	PidfdGetfd error // pidfd_open + pidfd_getfd on this process
	Getxattrat error // nil when the kernel has getxattrat (Linux 6.13)

	// User namespace sysctls; -1 when the file does not exist.
	MaxUserNS          int // user.max_user_namespaces
	UnprivUserNSClone  int // kernel.unprivileged_userns_clone (Debian's patch)
	AppArmorRestrictNS int // kernel.apparmor_restrict_unprivileged_userns (Ubuntu)
	Root               bool

	YamaScope int      // 0-3, YamaAbsent or YamaUnreadable
	LSMs      []string // ActiveLSMs
	Label     string   // this process's LSM label (/proc/self/attr/current)
}

// filterFlag is one seccomp filter flag the engine uses.
type filterFlag struct {
	name  string
	flags uintptr // the flag, with the flags it requires
	why   string  // what the engine loses without it
}

var filterFlags = []filterFlag{
	{"TSYNC", unix.SECCOMP_FILTER_FLAG_TSYNC,
		"attach and the hook cannot install the filter on every thread of a running process"},
	{"NEW_LISTENER", unix.SECCOMP_FILTER_FLAG_NEW_LISTENER,
		"no seccomp user notification: every emulated call costs a ptrace stop"},
	{"TSYNC_ESRCH", unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH,
		"a listener cannot go with TSYNC: every emulated call costs a ptrace stop"},
	{"WAIT_KILLABLE_RECV", unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
		"no seccomp user notification: every emulated call costs a ptrace stop"},
}

// probeFilterFlags passes each flag set to seccomp(SECCOMP_SET_MODE_FILTER)
// with a NULL program: the kernel checks the flags (EINVAL) before it reads
// the program (EFAULT), so nothing is ever installed.
func probeFilterFlags() (missing []string, err error) {
	for _, f := range filterFlags {
		_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, f.flags, 0)
		switch errno {
		case unix.EFAULT:
		case unix.EINVAL:
			missing = append(missing, f.name)
		case 0:
			return nil, errors.New("seccomp accepted a NULL program")
		default:
			return nil, fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, %s, NULL): %w", f.name, errno)
		}
	}
	return missing, nil
}

// probePidfdGetfd duplicates one of this process's descriptors through
// pidfd_getfd, as the tracer takes a listener.
func probePidfdGetfd() error {
	pidfd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return fmt.Errorf("pidfd_open: %w", err)
	}
	defer unix.Close(pidfd)
	fd, err := unix.PidfdGetfd(pidfd, pidfd, 0)
	if err != nil {
		return fmt.Errorf("pidfd_getfd: %w", err)
	}
	unix.Close(fd)
	return nil
}

// probeGetxattrat calls getxattrat with a zero argument size: a kernel that
// has it refuses that size (EINVAL) before looking at anything else.
func probeGetxattrat() error {
	dirfd := unix.AT_FDCWD
	_, _, errno := unix.Syscall6(unix.SYS_GETXATTRAT, uintptr(dirfd), 0, 0, 0, 0, 0)
	if errno == unix.EINVAL {
		return nil
	}
	if errno == 0 {
		return errors.New("getxattrat accepted a zero-size argument")
	}
	return errno
}

// readSysctl reads an integer sysctl; -1 when absent or unreadable.
func readSysctl(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}

// GatherKernelFacts probes the kernel. Nothing it does changes the process
// or the system.
func GatherKernelFacts() KernelFacts {
	var f KernelFacts
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		f.Release = unix.ByteSliceToString(u.Release[:])
	}
	f.TraceAction = seccompActionAvail(unix.SECCOMP_RET_TRACE)
	f.NotifyAction = seccompActionAvail(unix.SECCOMP_RET_USER_NOTIF)
	f.MissingFlags, f.FlagsErr = probeFilterFlags()
	f.PidfdGetfd = probePidfdGetfd()
	f.Getxattrat = probeGetxattrat()
	f.MaxUserNS = readSysctl("/proc/sys/user/max_user_namespaces")
	f.UnprivUserNSClone = readSysctl("/proc/sys/kernel/unprivileged_userns_clone")
	f.AppArmorRestrictNS = readSysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
	f.Root = os.Geteuid() == 0
	f.YamaScope = YamaScope()
	f.LSMs = ActiveLSMs()
	if b, err := os.ReadFile("/proc/self/attr/current"); err == nil {
		f.Label = strings.TrimSpace(strings.TrimRight(string(b), "\x00"))
	}
	return f
}

// KernelChecks probes the kernel and judges what it found.
func KernelChecks() []doctor.Check { return JudgeKernel(GatherKernelFacts()) }

// Check names.
const (
	checkSeccomp    = "kernel: seccomp"
	checkNotify     = "kernel: seccomp user notification"
	checkPidfdGetfd = "kernel: pidfd_getfd"
	checkGetxattrat = "kernel: getxattrat"
	checkUserNSes   = "kernel: user namespaces"
	checkYama       = "kernel: Yama ptrace_scope"
	checkLSM        = "kernel: LSMs"
	checkXattr      = "storage: user xattrs"
)

const upgradeKernel = "Use a newer kernel (remainroot is tested on 6.18)."

// JudgeKernel turns kernel facts into checks.
func JudgeKernel(f KernelFacts) []doctor.Check {
	var out []doctor.Check
	rel := f.Release
	if rel == "" {
		rel = "unknown"
	}

	// The ptrace route: SECCOMP_RET_TRACE and TSYNC are indispensable.
	switch {
	case f.TraceAction != nil:
		out = append(out, doctor.Failure(checkSeccomp, "Use a kernel built with CONFIG_SECCOMP_FILTER (every distribution kernel is), or run doctor outside a sandbox that refuses seccomp(2).",
			"kernel %s: SECCOMP_RET_TRACE is not available (%v): remainroot cannot trace anything", rel, f.TraceAction))
	case f.FlagsErr != nil:
		out = append(out, doctor.Failure(checkSeccomp, "Run doctor outside a sandbox that refuses seccomp(2).", "kernel %s: probing filter flags: %v", rel, f.FlagsErr))
	case slices.Contains(f.MissingFlags, "TSYNC"):
		out = append(out, doctor.Failure(checkSeccomp, upgradeKernel, "kernel %s lacks SECCOMP_FILTER_FLAG_TSYNC: %s", rel, filterFlags[0].why))
	default:
		out = append(out, doctor.Pass(checkSeccomp, "kernel %s: filters with SECCOMP_RET_TRACE and TSYNC", rel))
	}

	// The fast route: user notification and the listener flags.
	var missing []string
	for _, fl := range filterFlags[1:] {
		if slices.Contains(f.MissingFlags, fl.name) {
			missing = append(missing, fl.name)
		}
	}
	notify := false
	switch {
	case f.NotifyAction != nil:
		out = append(out, doctor.Warning(checkNotify, upgradeKernel+" (5.19 or later for the fast route)",
			"SECCOMP_RET_USER_NOTIF is not available (%v): every emulated call costs a ptrace stop", f.NotifyAction))
	case f.FlagsErr != nil:
		out = append(out, doctor.Warning(checkNotify, "Run doctor outside a sandbox that refuses seccomp(2).", "filter flags unknown: %v", f.FlagsErr))
	case len(missing) > 0:
		out = append(out, doctor.Warning(checkNotify, upgradeKernel+" (5.19 or later for the fast route)",
			"the kernel lacks SECCOMP_FILTER_FLAG_%s: every emulated call costs a ptrace stop", strings.Join(missing, ", SECCOMP_FILTER_FLAG_")))
	default:
		notify = true
		out = append(out, doctor.Pass(checkNotify, "SECCOMP_RET_USER_NOTIF with NEW_LISTENER, TSYNC_ESRCH and WAIT_KILLABLE_RECV: credential calls need no ptrace stop"))
	}

	switch {
	case f.PidfdGetfd == nil:
		out = append(out, doctor.Pass(checkPidfdGetfd, "the tracer can take a process's seccomp listener"))
	case notify:
		// The launcher hands its listener over and stops if the tracer
		// cannot take it (attach/launch.go).
		out = append(out, doctor.Failure(checkPidfdGetfd, upgradeKernel+" (5.6 or later)",
			"%v: the tracer cannot take the seccomp listener, so remainroot run and the hook fail", f.PidfdGetfd))
	default:
		out = append(out, doctor.Warning(checkPidfdGetfd, upgradeKernel+" (5.6 or later)", "not available (%v); unused without user notification", f.PidfdGetfd))
	}

	if f.Getxattrat == nil {
		out = append(out, doctor.Pass(checkGetxattrat, "mode full reads owners relative to a directory descriptor directly"))
	} else {
		out = append(out, doctor.Warning(checkGetxattrat, "Nothing to do for mode creds; for mode full use Linux 6.13 or later, or keep procfs mounted at /proc in the container.",
			"getxattrat is not available (%v): mode full looks up owners relative to a directory descriptor through /proc/self/fd", f.Getxattrat))
	}

	out = append(out, judgeUserNamespaces(f))
	out = append(out, judgeYama(f.YamaScope))
	out = append(out, judgeLSMs(f.LSMs, f.Label))
	return out
}

// judgeUserNamespaces: rootless podman, unshare and remainroot's own tests
// need to create user namespaces.
func judgeUserNamespaces(f KernelFacts) doctor.Check {
	switch {
	case f.MaxUserNS == 0:
		return doctor.Failure(checkUserNSes, "Set user.max_user_namespaces to a positive number (sysctl.d), as root.",
			"user.max_user_namespaces is 0: nobody can create a user namespace, so rootless podman cannot run")
	case f.UnprivUserNSClone == 0 && !f.Root:
		return doctor.Failure(checkUserNSes, "Set kernel.unprivileged_userns_clone=1 (sysctl.d), as root.",
			"kernel.unprivileged_userns_clone is 0: unprivileged users cannot create user namespaces, so rootless podman cannot run")
	case f.AppArmorRestrictNS == 1 && !f.Root:
		return doctor.Warning(checkUserNSes, "Use podman (its AppArmor profile allows user namespaces), or set kernel.apparmor_restrict_unprivileged_userns=0 for unshare and remainroot run.",
			"kernel.apparmor_restrict_unprivileged_userns is 1: a program without an AppArmor profile that allows user namespaces gets no capabilities in the ones it creates")
	}
	max := "no limit file"
	if f.MaxUserNS > 0 {
		max = fmt.Sprintf("user.max_user_namespaces %d", f.MaxUserNS)
	}
	return doctor.Pass(checkUserNSes, "%s: user namespaces can be created", max)
}

func judgeYama(scope int) doctor.Check {
	switch scope {
	case YamaAbsent:
		return doctor.Pass(checkYama, "no Yama in this kernel: ptrace is limited by ids and capabilities only")
	case 0:
		return doctor.Pass(checkYama, "0: Yama %s", YamaRule(0))
	case 1, 2:
		return doctor.Warning(checkYama, "Use rootless podman or root, whose hook has CAP_SYS_PTRACE in the container's user namespace, or set kernel.yama.ptrace_scope=0 for bare rootless runtimes and remainroot attach.",
			"%d: Yama %s; the hook of rootless podman and of root has it, remainroot run traces its own child, but attach of a process that is not its descendant and the hook of a bare rootless runtime are refused", scope, YamaRule(scope))
	case 3:
		return doctor.Failure(checkYama, "Set kernel.yama.ptrace_scope to 0 or 1 at boot (sysctl.d) and reboot.",
			"3: Yama %s: remainroot cannot trace anything", YamaRule(3))
	case YamaUnreadable:
		return doctor.Warning(checkYama, "Read "+YamaScopeFile+" as root to see the value.", "%s exists but cannot be read", YamaScopeFile)
	}
	return doctor.Warning(checkYama, "Check the kernel's Yama documentation for this value.", "%d: Yama %s", scope, YamaRule(scope))
}

func judgeLSMs(lsms []string, label string) doctor.Check {
	var mediating []string
	for _, l := range lsms {
		if slices.Contains(PtraceLSMs, l) {
			mediating = append(mediating, l)
		}
	}
	if lsms == nil {
		return doctor.Pass(checkLSM, "securityfs is not mounted and neither AppArmor nor SELinux is active")
	}
	if len(mediating) == 0 {
		return doctor.Pass(checkLSM, "%s: none of them mediates ptrace", strings.Join(lsms, ","))
	}
	confined := label != "" && label != "unconfined"
	if slices.Contains(mediating, "selinux") || slices.Contains(mediating, "smack") || (slices.Contains(mediating, "apparmor") && confined) {
		msg := fmt.Sprintf("%s active (this process's label %q); remainroot is tested without them", strings.Join(mediating, ", "), label)
		return doctor.Warning(checkLSM, "If the hook fails with \"PTRACE_SEIZE refused\", look for a ptrace denial in dmesg or the audit log and allow the runtime's hook to trace the container.", "%s", msg)
	}
	// AppArmor lets an unconfined tracer attach; landlock and bpf only
	// restrict processes that put themselves under them.
	return doctor.Pass(checkLSM, "%s active; %s apply only to confined processes, and this process is unconfined",
		strings.Join(lsms, ","), strings.Join(mediating, ", "))
}

// UserXattrCheck tells whether dir's filesystem takes user.* extended
// attributes, which mode full records owners in: it creates a temporary
// file there (or in dir's nearest existing parent), sets one on it and
// removes the file. what names the directory for the message.
func UserXattrCheck(what, dir string) doctor.Check {
	probe := dir
	for {
		if st, err := os.Stat(probe); err == nil && st.IsDir() {
			break
		}
		parent := filepath.Dir(probe)
		if parent == probe {
			break
		}
		probe = parent
	}
	f, err := os.CreateTemp(probe, ".remainroot-doctor-")
	if err != nil {
		return doctor.Warning(checkXattr, "Run doctor as the user who owns "+dir+".",
			"cannot test %s (%s): %v", what, dir, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	err = unix.Fsetxattr(int(f.Fd()), "user.remainroot.doctor", []byte("1"), 0)
	where := dir
	if probe != dir {
		where = fmt.Sprintf("%s (tested in %s)", dir, probe)
	}
	if err != nil {
		return doctor.Warning(checkXattr, "Nothing to do for mode creds; for mode full put the storage on a filesystem with user xattrs (ext4, xfs, btrfs, tmpfs since 6.6).",
			"%s %s: setting a user xattr failed (%v): mode full cannot record owners there", what, where, err)
	}
	return doctor.Pass(checkXattr, "%s %s takes user xattrs (mode full records owners in them)", what, where)
}
