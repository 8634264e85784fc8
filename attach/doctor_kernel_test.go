package attach

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/doctor"
)

// TestFilterFlagProbe checks the probe's premise on this kernel: a flag set
// it knows gets EFAULT for the NULL program, an unknown bit EINVAL, and
// nothing is installed either way.
func TestFilterFlagProbe(t *testing.T) {
	before, err := statusField(os.Getpid(), "Seccomp_filters")
	if err != nil {
		t.Fatal(err)
	}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, 0)
	if errno != unix.EFAULT {
		t.Errorf("known flag: errno %v, want EFAULT", errno)
	}
	_, _, errno = unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 1<<30, 0)
	if errno != unix.EINVAL {
		t.Errorf("unknown flag: errno %v, want EINVAL", errno)
	}
	// TSYNC with NEW_LISTENER but without TSYNC_ESRCH is refused as such.
	_, _, errno = unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC|unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, 0)
	if errno != unix.EINVAL {
		t.Errorf("TSYNC|NEW_LISTENER: errno %v, want EINVAL", errno)
	}
	if after, err := statusField(os.Getpid(), "Seccomp_filters"); err != nil || after != before {
		t.Errorf("Seccomp_filters: %q (%v) after probing, %q before: a filter was installed", after, err, before)
	}
}

// TestKernelFactsHere: the machines remainroot is tested on (6.18) have
// everything the engine uses.
func TestKernelFactsHere(t *testing.T) {
	f := GatherKernelFacts()
	if f.TraceAction != nil || f.NotifyAction != nil || f.FlagsErr != nil || len(f.MissingFlags) > 0 {
		t.Errorf("seccomp: trace %v notify %v flags %v missing %v", f.TraceAction, f.NotifyAction, f.FlagsErr, f.MissingFlags)
	}
	if f.PidfdGetfd != nil {
		t.Errorf("pidfd_getfd: %v", f.PidfdGetfd)
	}
	var u unix.Utsname
	unix.Uname(&u)
	var major, minor int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &major, &minor); err == nil && (major > 6 || major == 6 && minor >= 13) {
		if f.Getxattrat != nil {
			t.Errorf("kernel %d.%d: getxattrat: %v", major, minor, f.Getxattrat)
		}
	} else if !errors.Is(f.Getxattrat, unix.ENOSYS) && f.Getxattrat != nil {
		t.Errorf("kernel %d.%d: getxattrat probe: %v, want nil or ENOSYS", major, minor, f.Getxattrat)
	}
	for _, c := range JudgeKernel(f) {
		if c.Status == doctor.Fail {
			t.Errorf("%s: %s", c.Name, c.Message)
		}
	}
}

func TestJudgeKernel(t *testing.T) {
	good := KernelFacts{Release: "6.18.0", YamaScope: YamaAbsent, LSMs: []string{"capability", "landlock"},
		MaxUserNS: 96363, UnprivUserNSClone: -1, AppArmorRestrictNS: -1}
	tests := []struct {
		name   string
		facts  func(*KernelFacts)
		check  string
		status doctor.Status
		want   string // in the message
	}{
		{"all there", func(*KernelFacts) {}, checkNotify, doctor.OK, "no ptrace stop"},
		{"no trace", func(f *KernelFacts) { f.TraceAction = unix.EOPNOTSUPP }, checkSeccomp, doctor.Fail, "cannot trace"},
		{"no tsync", func(f *KernelFacts) { f.MissingFlags = []string{"TSYNC"} }, checkSeccomp, doctor.Fail, "TSYNC"},
		{"no notify", func(f *KernelFacts) { f.NotifyAction = unix.EOPNOTSUPP }, checkNotify, doctor.Warn, "ptrace stop"},
		{"no killable", func(f *KernelFacts) { f.MissingFlags = []string{"WAIT_KILLABLE_RECV"} }, checkNotify, doctor.Warn, "WAIT_KILLABLE_RECV"},
		{"no pidfd_getfd with notify", func(f *KernelFacts) { f.PidfdGetfd = unix.ENOSYS }, checkPidfdGetfd, doctor.Fail, "cannot take"},
		{"no pidfd_getfd without notify", func(f *KernelFacts) { f.PidfdGetfd = unix.ENOSYS; f.NotifyAction = unix.EOPNOTSUPP }, checkPidfdGetfd, doctor.Warn, "not available"},
		{"no getxattrat", func(f *KernelFacts) { f.Getxattrat = unix.ENOSYS }, checkGetxattrat, doctor.Warn, "/proc/self/fd"},
		{"yama 0", func(f *KernelFacts) { f.YamaScope = 0 }, checkYama, doctor.OK, "no restriction"},
		{"yama 1", func(f *KernelFacts) { f.YamaScope = 1 }, checkYama, doctor.Warn, "ancestor"},
		{"yama 3", func(f *KernelFacts) { f.YamaScope = 3 }, checkYama, doctor.Fail, "until reboot"},
		{"apparmor unconfined", func(f *KernelFacts) { f.LSMs = []string{"apparmor"}; f.Label = "unconfined" }, checkLSM, doctor.OK, "unconfined"},
		{"apparmor confined", func(f *KernelFacts) { f.LSMs = []string{"apparmor"}; f.Label = "podman (enforce)" }, checkLSM, doctor.Warn, "apparmor"},
		{"selinux", func(f *KernelFacts) { f.LSMs = []string{"selinux"}; f.Label = "unconfined_u:unconfined_r:unconfined_t" }, checkLSM, doctor.Warn, "selinux"},
		{"landlock", func(*KernelFacts) {}, checkLSM, doctor.OK, "landlock"},
		{"userns", func(*KernelFacts) {}, checkUserNSes, doctor.OK, "96363"},
		{"no userns", func(f *KernelFacts) { f.MaxUserNS = 0; f.Root = true }, checkUserNSes, doctor.Fail, "max_user_namespaces is 0"},
		{"debian clone off", func(f *KernelFacts) { f.UnprivUserNSClone = 0 }, checkUserNSes, doctor.Fail, "unprivileged_userns_clone"},
		{"debian clone off, root", func(f *KernelFacts) { f.UnprivUserNSClone = 0; f.Root = true }, checkUserNSes, doctor.OK, "can be created"},
		{"ubuntu restriction", func(f *KernelFacts) { f.AppArmorRestrictNS = 1 }, checkUserNSes, doctor.Warn, "AppArmor profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := good
			tt.facts(&f)
			var found bool
			for _, c := range JudgeKernel(f) {
				if c.Status != doctor.OK && c.Remedy == "" {
					t.Errorf("%s: %s without a remedy", c.Name, c.Status)
				}
				if c.Name != tt.check {
					continue
				}
				found = true
				if c.Status != tt.status || !strings.Contains(c.Message, tt.want) {
					t.Errorf("%s = %s %q, want %s containing %q", c.Name, c.Status, c.Message, tt.status, tt.want)
				}
			}
			if !found {
				t.Errorf("no %s check", tt.check)
			}
		})
	}
}

func TestUserXattrCheck(t *testing.T) {
	dir := t.TempDir()
	c := UserXattrCheck("graphroot", filepath.Join(dir, "not", "yet"))
	// The temporary directory (tmpfs or a disk filesystem here) takes
	// user xattrs; the probe leaves nothing behind.
	if c.Status != doctor.OK || !strings.Contains(c.Message, "tested in "+dir) {
		t.Errorf("%+v", c)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left %v in %s", ents, dir)
	}
	// /proc takes no user xattrs.
	if c := UserXattrCheck("graphroot", "/proc/self"); c.Status == doctor.OK {
		t.Errorf("/proc: %+v", c)
	}
}
