package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/remainroot/remainroot/attach"
)

// The kernel checks: the seccomp and ptrace facilities the engine uses,
// user namespaces, Yama and the LSMs, judged from package attach's facts.

// KernelChecks probes the kernel and judges what it found.
func KernelChecks() []Check { return JudgeKernel(attach.GatherKernelFacts()) }

// Check names.
const (
	checkSeccomp    = "kernel: seccomp"
	checkNotify     = "kernel: seccomp user notification"
	checkPidfdGetfd = "kernel: pidfd_getfd"
	checkGetxattrat = "kernel: getxattrat"
	checkUserNSes   = "kernel: user namespaces"
	checkYama       = "kernel: Yama ptrace_scope"
	checkLSM        = "kernel: LSMs"
)

const upgradeKernel = "Use a newer kernel (remainroot is tested on 6.18)."

// withoutTSYNC is what the engine loses without SECCOMP_FILTER_FLAG_TSYNC.
const withoutTSYNC = "attach and the hook cannot install the filter on every thread of a running process"

// JudgeKernel turns kernel facts into checks.
func JudgeKernel(f attach.KernelFacts) []Check {
	var out []Check
	rel := f.Release
	if rel == "" {
		rel = "unknown"
	}

	// The ptrace route: SECCOMP_RET_TRACE and TSYNC are indispensable.
	switch {
	case f.TraceAction != nil:
		out = append(out, Failure(checkSeccomp, "Use a kernel built with CONFIG_SECCOMP_FILTER (every distribution kernel is), or run doctor outside a sandbox that refuses seccomp(2).",
			"kernel %s: SECCOMP_RET_TRACE is not available (%v): remainroot cannot trace anything", rel, f.TraceAction))
	case f.FlagsErr != nil:
		out = append(out, Failure(checkSeccomp, "Run doctor outside a sandbox that refuses seccomp(2).", "kernel %s: probing filter flags: %v", rel, f.FlagsErr))
	case slices.Contains(f.MissingFlags, attach.FilterFlagTSYNC):
		out = append(out, Failure(checkSeccomp, upgradeKernel, "kernel %s lacks SECCOMP_FILTER_FLAG_TSYNC: %s", rel, withoutTSYNC))
	default:
		out = append(out, Pass(checkSeccomp, "kernel %s: filters with SECCOMP_RET_TRACE and TSYNC", rel))
	}

	// The fast route: user notification and the listener flags.
	var missing []string
	for _, name := range attach.ListenerFilterFlags {
		if slices.Contains(f.MissingFlags, name) {
			missing = append(missing, name)
		}
	}
	notify := false
	switch {
	case f.NotifyAction != nil:
		out = append(out, Warning(checkNotify, upgradeKernel+" (5.19 or later for the fast route)",
			"SECCOMP_RET_USER_NOTIF is not available (%v): every emulated call costs a ptrace stop", f.NotifyAction))
	case f.FlagsErr != nil:
		out = append(out, Warning(checkNotify, "Run doctor outside a sandbox that refuses seccomp(2).", "filter flags unknown: %v", f.FlagsErr))
	case len(missing) > 0:
		out = append(out, Warning(checkNotify, upgradeKernel+" (5.19 or later for the fast route)",
			"the kernel lacks SECCOMP_FILTER_FLAG_%s: every emulated call costs a ptrace stop", strings.Join(missing, ", SECCOMP_FILTER_FLAG_")))
	default:
		notify = true
		out = append(out, Pass(checkNotify, "SECCOMP_RET_USER_NOTIF with NEW_LISTENER, TSYNC_ESRCH and WAIT_KILLABLE_RECV: credential calls need no ptrace stop"))
	}

	switch {
	case f.PidfdGetfd == nil:
		out = append(out, Pass(checkPidfdGetfd, "the tracer can take a process's seccomp listener"))
	case notify:
		// The launcher hands its listener over and stops if the tracer
		// cannot take it (attach/launch.go).
		out = append(out, Failure(checkPidfdGetfd, upgradeKernel+" (5.6 or later)",
			"%v: the tracer cannot take the seccomp listener, so remainroot run and the hook fail", f.PidfdGetfd))
	default:
		out = append(out, Warning(checkPidfdGetfd, upgradeKernel+" (5.6 or later)", "not available (%v); unused without user notification", f.PidfdGetfd))
	}

	if f.Getxattrat == nil {
		out = append(out, Pass(checkGetxattrat, "mode full reads owners relative to a directory descriptor directly"))
	} else {
		out = append(out, Warning(checkGetxattrat, "Nothing to do for mode creds; for mode full use Linux 6.13 or later, or keep procfs mounted at /proc in the container.",
			"getxattrat is not available (%v): mode full looks up owners relative to a directory descriptor through /proc/self/fd", f.Getxattrat))
	}

	out = append(out, judgeUserNamespaces(f))
	out = append(out, judgeYama(f.YamaScope))
	out = append(out, judgeLSMs(f.LSMs, f.Label))
	return out
}

// judgeUserNamespaces: rootless podman, unshare and remainroot's own tests
// need to create user namespaces.
func judgeUserNamespaces(f attach.KernelFacts) Check {
	switch {
	case f.MaxUserNS == 0:
		return Failure(checkUserNSes, "Set user.max_user_namespaces to a positive number (sysctl.d), as root.",
			"user.max_user_namespaces is 0: nobody can create a user namespace, so rootless podman cannot run")
	case f.UnprivUserNSClone == 0 && !f.Root:
		return Failure(checkUserNSes, "Set kernel.unprivileged_userns_clone=1 (sysctl.d), as root.",
			"kernel.unprivileged_userns_clone is 0: unprivileged users cannot create user namespaces, so rootless podman cannot run")
	case f.AppArmorRestrictNS == 1 && !f.Root:
		return Warning(checkUserNSes, "Use podman (its AppArmor profile allows user namespaces), or set kernel.apparmor_restrict_unprivileged_userns=0 for unshare and remainroot run.",
			"kernel.apparmor_restrict_unprivileged_userns is 1: a program without an AppArmor profile that allows user namespaces gets no capabilities in the ones it creates")
	}
	limit := "no limit file"
	if f.MaxUserNS > 0 {
		limit = fmt.Sprintf("user.max_user_namespaces %d", f.MaxUserNS)
	}
	return Pass(checkUserNSes, "%s: user namespaces can be created", limit)
}

func judgeYama(scope int) Check {
	switch scope {
	case attach.YamaAbsent:
		return Pass(checkYama, "no Yama in this kernel: ptrace is limited by ids and capabilities only")
	case 0:
		return Pass(checkYama, "0: Yama %s", attach.YamaRule(0))
	case 1, 2:
		return Warning(checkYama, "Use rootless podman or root, whose hook has CAP_SYS_PTRACE in the container's user namespace, or set kernel.yama.ptrace_scope=0 for bare rootless runtimes and remainroot attach.",
			"%d: Yama %s; the hook of rootless podman and of root has it, remainroot run traces its own child, but attach of a process that is not its descendant and the hook of a bare rootless runtime are refused", scope, attach.YamaRule(scope))
	case 3:
		return Failure(checkYama, "Set kernel.yama.ptrace_scope to 0 or 1 at boot (sysctl.d) and reboot.",
			"3: Yama %s: remainroot cannot trace anything", attach.YamaRule(3))
	case attach.YamaUnreadable:
		return Warning(checkYama, "Read "+attach.YamaScopeFile+" as root to see the value.", "%s exists but cannot be read", attach.YamaScopeFile)
	}
	return Warning(checkYama, "Check the kernel's Yama documentation for this value.", "%d: Yama %s", scope, attach.YamaRule(scope))
}

func judgeLSMs(lsms []string, label string) Check {
	var mediating []string
	for _, l := range lsms {
		if slices.Contains(attach.PtraceLSMs, l) {
			mediating = append(mediating, l)
		}
	}
	if lsms == nil {
		return Pass(checkLSM, "securityfs is not mounted and neither AppArmor nor SELinux is active")
	}
	if len(mediating) == 0 {
		return Pass(checkLSM, "%s: none of them mediates ptrace", strings.Join(lsms, ","))
	}
	confined := label != "" && label != "unconfined"
	if slices.Contains(mediating, "selinux") || slices.Contains(mediating, "smack") || (slices.Contains(mediating, "apparmor") && confined) {
		msg := fmt.Sprintf("%s active (this process's label %q); remainroot is tested without them", strings.Join(mediating, ", "), label)
		return Warning(checkLSM, "If the hook fails with \"PTRACE_SEIZE refused\", look for a ptrace denial in dmesg or the audit log and allow the runtime's hook to trace the container.", "%s", msg)
	}
	// AppArmor lets an unconfined tracer attach; landlock and bpf only
	// restrict processes that put themselves under them.
	return Pass(checkLSM, "%s active; %s apply only to confined processes, and this process is unconfined",
		strings.Join(lsms, ","), strings.Join(mediating, ", "))
}
