package doctor

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/remainroot/remainroot/attach"
	"github.com/remainroot/remainroot/config"
)

// The OCI runtimes doctor knows: their versions, whether they support the
// seccomp agent route (runtime-spec listenerPath with SCMP_ACT_NOTIFY), and
// the known bugs that bite remainroot's users.

// RuntimeInfo is what `RUNTIME --version` says.
type RuntimeInfo struct {
	Name       string
	Path       string
	Version    version
	Raw        string  // the first line
	Libseccomp version // runc: "libseccomp: X"
	Seccomp    bool    // crun: "+SECCOMP" among its features; runc: libseccomp listed
}

// parseRuntimeVersion parses `runc --version` or `crun --version`.
func parseRuntimeVersion(name, out string) (RuntimeInfo, error) {
	info := RuntimeInfo{Name: name, Raw: firstLine(out)}
	v, ok := parseVersion(info.Raw)
	if !ok || !strings.Contains(info.Raw, "version") {
		return info, fmt.Errorf("%s --version: no version in %q", name, info.Raw)
	}
	info.Version = v
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if after, ok := strings.CutPrefix(line, "libseccomp:"); ok {
			info.Libseccomp, _ = parseVersion(after)
			info.Seccomp = info.Libseccomp != nil
		}
		if slices.Contains(strings.Fields(line), "+SECCOMP") {
			info.Seccomp = true
		}
	}
	return info, nil
}

// Versions from the runtimes' sources and changelogs.
var (
	runcListener     = version{1, 1, 0} // runc 1.1.0: listenerPath, SCMP_ACT_NOTIFY (libseccomp >= 2.5)
	libseccompNotify = version{2, 5, 0}
	crunListener     = version{0, 19, 0} // crun 0.19: listenerPath / run.oci.seccomp.receiver
	// crun #1845 (fixed by #1847, "linux: never chown devices", merged
	// August 2025, after 1.23.1): as root with a user namespace, crun
	// fchowns the container's stdio before joining it, /dev/null
	// included.
	crunLastDevNullChown  = version{1, 23, 1}
	crunFixedDevNullChown = version{1, 23, 2} // the first version after 1.23.1
)

// RuntimeChecks finds runc and crun and judges them for a user with euid.
func RuntimeChecks(euid int, conf config.ContainersConf) []Check {
	var out []Check
	var found int
	for _, name := range []string{"crun", "runc"} {
		path := lookRuntime(name, conf)
		if path == "" {
			continue
		}
		found++
		text, err := runOutput(10*time.Second, path, "--version")
		if err != nil {
			out = append(out, Warning("runtime: "+name, "Reinstall "+name+".", "%s: %v", path, err))
			continue
		}
		info, err := parseRuntimeVersion(name, text)
		info.Path = path
		if err != nil {
			out = append(out, Warning("runtime: "+name, "Reinstall "+name+".", "%v", err))
			continue
		}
		out = append(out, judgeRuntime(info, euid))
	}
	if found == 0 {
		out = append(out, Warning("runtimes", "Install crun or runc (podman needs one of them).", "neither crun nor runc found in PATH or containers.conf's [engine.runtimes]"))
	}
	return out
}

// lookRuntime finds name in containers.conf's [engine.runtimes] paths,
// else in PATH and the directories podman also searches.
func lookRuntime(name string, conf config.ContainersConf) string {
	cands := append([]string(nil), conf.RuntimePaths[name]...)
	if p, err := exec.LookPath(name); err == nil {
		cands = append(cands, p)
	}
	for _, dir := range []string{"/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/sbin", "/bin", "/usr/lib/cri-o-runc/sbin", "/run/current-system/sw/bin"} {
		cands = append(cands, dir+"/"+name)
	}
	for _, c := range cands {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	return ""
}

// judgeRuntime says what a runtime means for remainroot.
func judgeRuntime(info RuntimeInfo, euid int) Check {
	name := "runtime: " + info.Name
	head := fmt.Sprintf("%s %s (%s)", info.Name, info.Version, info.Path)
	switch info.Name {
	case "runc":
		listener := info.Version.atLeast(runcListener) && info.Libseccomp != nil && info.Libseccomp.atLeast(libseccompNotify)
		if !listener {
			return Warning(name, "Use runc 1.1.0 or later built with libseccomp 2.5 or later.",
				"%s, libseccomp %s: no seccomp listenerPath (SCMP_ACT_NOTIFY) support; the createRuntime hook works", head, info.Libseccomp)
		}
		return Pass(name, "%s, libseccomp %s: seccomp listenerPath (SCMP_ACT_NOTIFY) supported; works rootless (podman or bare) and as root", head, info.Libseccomp)
	case "crun":
		listener := info.Version.atLeast(crunListener) && info.Seccomp
		if euid == 0 && !info.Version.atLeast(crunFixedDevNullChown) {
			return Warning(name, "As root, run containers with a user namespace through runc (podman --runtime runc), or use a crun with the fix, and never hand a container the host's /dev/null as stdio.",
				"%s: as root with a user namespace, crun up to %s chowns the container's stdio before joining it, /dev/null included, so the host's /dev/null ends up owned by the container's root (crun #1845, fixed by #1847)", head, crunLastDevNullChown)
		}
		if !listener {
			return Warning(name, "Use crun 0.19 or later built with seccomp.", "%s: no seccomp listenerPath (SCMP_ACT_NOTIFY) support; the createRuntime hook works", head)
		}
		note := "works under rootless podman and as root"
		if euid != 0 {
			note = "works under rootless podman; with " + attach.BareRootlessCrun + ", the init is non-dumpable in a namespace the hook cannot trace: " + attach.BareRootlessCrunRemedy
		}
		return Pass(name, "%s: seccomp listenerPath (SCMP_ACT_NOTIFY) supported; %s", head, note)
	}
	return Pass(name, "%s", head)
}
