package hook

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/remainroot/remainroot/attach"
)

// initUserNSInode is the inode number of the initial user namespace
// (PROC_USER_INIT_INO in the kernel's include/linux/proc_ns.h).
const initUserNSInode = 0xEFFFFFFD

// capSysPtrace is CAP_SYS_PTRACE's bit in the capability sets.
const capSysPtrace = 19

// Yama's file and scope values beyond the kernel's 0-3 (attach/ptrace_facts.go).
const (
	yamaScopeFile  = attach.YamaScopeFile
	yamaAbsent     = attach.YamaAbsent
	yamaUnreadable = attach.YamaUnreadable
)

// ExplainSeizeError turns the error PTRACE_SEIZE returned for the
// container's init into one line naming the check that refused and the
// remedy, for the hook's stderr (which the runtime shows the user). It reads
// /proc and /sys to find out which check it was; call it right after the
// failure, while the init still exists.
func ExplainSeizeError(pid int, err error) string {
	return explainSeize(pid, err, gatherSeizeFacts(pid))
}

// seizeFacts is what explainSeize needs to know about the system, the
// hook and the target. Unknown ids are nil; unknown inodes are 0.
type seizeFacts struct {
	// Target, from /proc/<pid>.
	TargetErr       error  // reading /proc/<pid>/status failed
	TargetName      string // Name:
	TargetState     string // State:, e.g. "S (sleeping)"
	TracerPid       int    // TracerPid:
	TracerName      string // the tracer's comm, when traced
	TargetUIDs      []int  // Uid: real, effective, saved, fs
	TargetGIDs      []int  // Gid: real, effective, saved, fs
	TargetOwner     int    // uid owning /proc/<pid>; -1 unknown
	TargetUserNS    uint64 // inode of /proc/<pid>/ns/user
	TargetUserNSErr error  // why TargetUserNS is unknown
	TargetLabel     string // /proc/<pid>/attr/current

	// The hook itself.
	SelfUID          int
	SelfGID          int
	SelfCapSysPtrace bool   // CAP_SYS_PTRACE in the effective set
	SelfUserNS       uint64 // inode of /proc/thread-self/ns/user
	SelfSeccomp      int    // Seccomp: 0 none, 1 strict, 2 filter; -1 unknown
	SelfLabel        string // /proc/thread-self/attr/current

	// The system.
	YamaScope int      // 0-3, yamaAbsent or yamaUnreadable
	LSMs      []string // active LSMs (/sys/kernel/security/lsm); nil unknown
}

// gatherSeizeFacts reads what explainSeize needs from /proc and /sys.
// Every read is best effort: what fails stays unknown.
func gatherSeizeFacts(pid int) seizeFacts {
	f := seizeFacts{
		TargetOwner: -1,
		SelfUID:     os.Getuid(),
		SelfGID:     os.Getgid(),
		SelfSeccomp: -1,
		YamaScope:   yamaUnreadable,
	}
	proc := "/proc/" + strconv.Itoa(pid)

	if st, err := parseStatusFile(proc + "/status"); err != nil {
		f.TargetErr = err
	} else {
		f.TargetName = st["Name"]
		f.TargetState = st["State"]
		f.TracerPid, _ = strconv.Atoi(st["TracerPid"])
		f.TargetUIDs = parseIDs(st["Uid"])
		f.TargetGIDs = parseIDs(st["Gid"])
	}
	if f.TracerPid > 0 {
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(f.TracerPid) + "/comm"); err == nil {
			f.TracerName = strings.TrimSpace(string(b))
		}
	}
	if fi, err := os.Stat(proc); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			f.TargetOwner = int(st.Uid)
		}
	}
	f.TargetUserNS, f.TargetUserNSErr = nsInode(proc + "/ns/user")
	f.TargetLabel = readLabel(proc + "/attr/current")

	if st, err := parseStatusFile("/proc/thread-self/status"); err == nil {
		if eff, err := strconv.ParseUint(st["CapEff"], 16, 64); err == nil {
			f.SelfCapSysPtrace = eff&(1<<capSysPtrace) != 0
		}
		if n, err := strconv.Atoi(st["Seccomp"]); err == nil {
			f.SelfSeccomp = n
		}
	}
	f.SelfUserNS, _ = nsInode("/proc/thread-self/ns/user")
	f.SelfLabel = readLabel("/proc/thread-self/attr/current")

	f.YamaScope = attach.YamaScope()
	f.LSMs = attach.ActiveLSMs()
	return f
}

// parseStatusFile reads a /proc status file into a map of field to value.
func parseStatusFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseStatus(string(b)), nil
}

func parseStatus(s string) map[string]string {
	m := map[string]string{}
	for line := range strings.Lines(s) {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// parseIDs parses a status Uid:/Gid: value; nil if malformed.
func parseIDs(s string) []int {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil
	}
	ids := make([]int, len(fields))
	for i, fl := range fields {
		n, err := strconv.Atoi(fl)
		if err != nil {
			return nil
		}
		ids[i] = n
	}
	return ids
}

// nsInode returns the inode of a /proc/<pid>/ns/<type> link. Reading it
// needs ptrace read access to the process, so EACCES is itself a fact.
func nsInode(path string) (uint64, error) {
	link, err := os.Readlink(path)
	if err != nil {
		return 0, err
	}
	_, rest, ok := strings.Cut(link, "[")
	if !ok {
		return 0, fmt.Errorf("unexpected namespace link %q", link)
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("unexpected namespace link %q: %w", link, err)
	}
	return n, nil
}

// readLabel reads an LSM label; empty when there is none or it is unreadable.
func readLabel(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.TrimRight(string(b), "\x00"))
}

// explainSeize is ExplainSeizeError's pure part: from the error and the
// facts to one line. It follows the kernel's order: ptrace_attach's own
// checks, then __ptrace_may_access (ids, then dumpability), then the LSM
// hooks (Yama, then the others).
func explainSeize(pid int, err error, f seizeFacts) string {
	head := fmt.Sprintf("cannot trace the container's init (pid %d): ", pid)
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return head + fmt.Sprintf("PTRACE_SEIZE: %v", err)
	}
	switch errno {
	case syscall.ESRCH:
		return head + "no such process: it exited before the hook could attach, or is not in the hook's pid namespace; the runtime's error or the container's log says why it died"
	case syscall.EPERM:
	default:
		return head + fmt.Sprintf("PTRACE_SEIZE: %v", err)
	}
	head += "PTRACE_SEIZE refused (operation not permitted): "

	if errors.Is(f.TargetErr, fs.ErrNotExist) || errors.Is(f.TargetErr, syscall.ESRCH) {
		return head + "the process exited while the hook was attaching; the runtime's error or the container's log says why it died"
	}
	if f.TracerPid > 0 {
		who := strconv.Itoa(f.TracerPid)
		if f.TracerName != "" {
			who += " (" + f.TracerName + ")"
		}
		return head + "it is already traced by pid " + who + " and a process takes one tracer only; list remainroot once in hooks.d (stage createRuntime, not prestart as well) and detach any debugger or other ptrace tool"
	}
	if strings.HasPrefix(f.TargetState, "Z") || strings.HasPrefix(f.TargetState, "X") {
		return head + fmt.Sprintf("it has already exited (state %s); the runtime's error or the container's log says why it died", f.TargetState)
	}
	if f.YamaScope == 3 {
		return head + "Yama's kernel.yama.ptrace_scope is 3, which " + attach.YamaRule(3) + "; set it lower at boot (sysctl.d) to use remainroot"
	}

	// __ptrace_may_access: CAP_SYS_PTRACE in the initial user namespace
	// passes every credential and dumpability check.
	globalCap := f.SelfCapSysPtrace && f.SelfUserNS == initUserNSInode
	sameNS := f.TargetUserNS != 0 && f.TargetUserNS == f.SelfUserNS
	capInTarget := globalCap || (f.SelfCapSysPtrace && sameNS)

	idsKnown := len(f.TargetUIDs) >= 3 && len(f.TargetGIDs) >= 3
	if idsKnown && !capInTarget && !idsMatch(f) {
		return head + fmt.Sprintf("the hook runs as uid %d gid %d but the init has uids %s gids %s (real, effective, saved, fs) and the hook lacks CAP_SYS_PTRACE in its user namespace; run the hook as the user who runs the container (rootless podman does) or as root",
			f.SelfUID, f.SelfGID, fmtIDs(f.TargetUIDs), fmtIDs(f.TargetGIDs))
	}

	// A non-dumpable process's /proc/<pid> belongs to the root of the user
	// namespace owning its memory, not to its euid; and reading its
	// ns links is refused like an attach would be.
	ownerDiffers := idsKnown && f.TargetOwner >= 0 && f.TargetOwner != f.TargetUIDs[1]
	nsDenied := errors.Is(f.TargetUserNSErr, fs.ErrPermission)
	if !globalCap && (ownerDiffers || nsDenied) {
		return head + fmt.Sprintf("the init is non-dumpable and its memory belongs to a user namespace in which the hook (%s) lacks CAP_SYS_PTRACE; typical of "+attach.BareRootlessCrun+": "+attach.BareRootlessCrunRemedy,
			selfDesc(f))
	}

	if (f.YamaScope == 1 || f.YamaScope == 2) && !capInTarget {
		rule := attach.YamaRule(f.YamaScope)
		return head + fmt.Sprintf("Yama's kernel.yama.ptrace_scope is %d, which %s, and the hook (a sibling of the init, %s) lacks CAP_SYS_PTRACE in the init's user namespace; run the container through rootless podman or as root (both give the hook that capability), or set kernel.yama.ptrace_scope=0",
			f.YamaScope, rule, selfDesc(f))
	}

	var suspects []string
	if lsms := intersect(f.LSMs, attach.PtraceLSMs); len(lsms) > 0 {
		s := "the security module(s) " + strings.Join(lsms, ", ")
		if f.TargetLabel != "" || f.SelfLabel != "" {
			s += fmt.Sprintf(" (hook label %q, init label %q)", f.SelfLabel, f.TargetLabel)
		}
		suspects = append(suspects, s)
	}
	if f.SelfSeccomp == 2 {
		suspects = append(suspects, "a seccomp filter on the hook itself (Seccomp: 2, as when run inside another container)")
	}
	yama := "no Yama"
	if f.YamaScope >= 0 {
		yama = fmt.Sprintf("Yama scope %d", f.YamaScope)
	} else if f.YamaScope == yamaUnreadable {
		yama = "Yama unreadable"
	}
	if len(suspects) == 0 {
		lsm := "no AppArmor or SELinux found"
		if f.LSMs == nil {
			lsm = "LSMs unknown (securityfs not mounted)"
		}
		return head + fmt.Sprintf("no cause found (%s; ids, capabilities and dumpability allow it; %s); look for a denial in dmesg or the audit log", yama, lsm)
	}
	return head + fmt.Sprintf("%s, ids, capabilities and dumpability allow it, which leaves %s: look for a ptrace denial in dmesg or the audit log and allow the hook to trace the container",
		yama, strings.Join(suspects, " or "))
}

// idsMatch reports __ptrace_may_access's first test: the caller's real uid
// equals the target's real, effective and saved uids, and likewise gids.
func idsMatch(f seizeFacts) bool {
	for _, id := range f.TargetUIDs[:3] {
		if id != f.SelfUID {
			return false
		}
	}
	for _, id := range f.TargetGIDs[:3] {
		if id != f.SelfGID {
			return false
		}
	}
	return true
}

func fmtIDs(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, "/")
}

// selfDesc describes the hook's standing for the messages.
func selfDesc(f seizeFacts) string {
	ns := "user namespace " + strconv.FormatUint(f.SelfUserNS, 10)
	switch {
	case f.SelfUserNS == initUserNSInode:
		ns = "the initial user namespace"
	case f.SelfUserNS == 0:
		ns = "an unknown user namespace"
	}
	if f.SelfCapSysPtrace {
		return fmt.Sprintf("uid %d in %s, where it has CAP_SYS_PTRACE", f.SelfUID, ns)
	}
	return fmt.Sprintf("uid %d in %s", f.SelfUID, ns)
}

func intersect(have, want []string) []string {
	var out []string
	for _, h := range have {
		if slices.Contains(want, h) {
			out = append(out, h)
		}
	}
	return out
}
