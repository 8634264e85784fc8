package doctor

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach"
)

// TestKernelChecksHere: the machines remainroot is tested on (6.18) have
// everything the engine uses.
func TestKernelChecksHere(t *testing.T) {
	f := attach.GatherKernelFacts()
	for _, c := range JudgeKernel(f) {
		if c.Status == Fail {
			t.Errorf("%s: %s", c.Name, c.Message)
		}
	}
}

func TestJudgeKernel(t *testing.T) {
	good := attach.KernelFacts{Release: "6.18.0", YamaScope: attach.YamaAbsent, LSMs: []string{"capability", "landlock"},
		MaxUserNS: 96363, UnprivUserNSClone: -1, AppArmorRestrictNS: -1}
	tests := []struct {
		name   string
		facts  func(*attach.KernelFacts)
		check  string
		status Status
		want   string // in the message
	}{
		{"all there", func(*attach.KernelFacts) {}, checkNotify, OK, "no ptrace stop"},
		{"no trace", func(f *attach.KernelFacts) { f.TraceAction = unix.EOPNOTSUPP }, checkSeccomp, Fail, "cannot trace"},
		{"no tsync", func(f *attach.KernelFacts) { f.MissingFlags = []string{"TSYNC"} }, checkSeccomp, Fail, "TSYNC"},
		{"no notify", func(f *attach.KernelFacts) { f.NotifyAction = unix.EOPNOTSUPP }, checkNotify, Warn, "ptrace stop"},
		{"no killable", func(f *attach.KernelFacts) { f.MissingFlags = []string{"WAIT_KILLABLE_RECV"} }, checkNotify, Warn, "WAIT_KILLABLE_RECV"},
		{"no pidfd_getfd with notify", func(f *attach.KernelFacts) { f.PidfdGetfd = unix.ENOSYS }, checkPidfdGetfd, Fail, "cannot take"},
		{"no pidfd_getfd without notify", func(f *attach.KernelFacts) { f.PidfdGetfd = unix.ENOSYS; f.NotifyAction = unix.EOPNOTSUPP }, checkPidfdGetfd, Warn, "not available"},
		{"no getxattrat", func(f *attach.KernelFacts) { f.Getxattrat = unix.ENOSYS }, checkGetxattrat, Warn, "/proc/self/fd"},
		{"yama 0", func(f *attach.KernelFacts) { f.YamaScope = 0 }, checkYama, OK, "no restriction"},
		{"yama 1", func(f *attach.KernelFacts) { f.YamaScope = 1 }, checkYama, Warn, "ancestor"},
		{"yama 3", func(f *attach.KernelFacts) { f.YamaScope = 3 }, checkYama, Fail, "until reboot"},
		{"apparmor unconfined", func(f *attach.KernelFacts) { f.LSMs = []string{"apparmor"}; f.Label = "unconfined" }, checkLSM, OK, "unconfined"},
		{"apparmor confined", func(f *attach.KernelFacts) { f.LSMs = []string{"apparmor"}; f.Label = "podman (enforce)" }, checkLSM, Warn, "apparmor"},
		{"selinux", func(f *attach.KernelFacts) {
			f.LSMs = []string{"selinux"}
			f.Label = "unconfined_u:unconfined_r:unconfined_t"
		}, checkLSM, Warn, "selinux"},
		{"landlock", func(*attach.KernelFacts) {}, checkLSM, OK, "landlock"},
		{"userns", func(*attach.KernelFacts) {}, checkUserNSes, OK, "96363"},
		{"no userns", func(f *attach.KernelFacts) { f.MaxUserNS = 0; f.Root = true }, checkUserNSes, Fail, "max_user_namespaces is 0"},
		{"debian clone off", func(f *attach.KernelFacts) { f.UnprivUserNSClone = 0 }, checkUserNSes, Fail, "unprivileged_userns_clone"},
		{"debian clone off, root", func(f *attach.KernelFacts) { f.UnprivUserNSClone = 0; f.Root = true }, checkUserNSes, OK, "can be created"},
		{"ubuntu restriction", func(f *attach.KernelFacts) { f.AppArmorRestrictNS = 1 }, checkUserNSes, Warn, "AppArmor profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := good
			tt.facts(&f)
			var found bool
			for _, c := range JudgeKernel(f) {
				if c.Status != OK && c.Remedy == "" {
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
