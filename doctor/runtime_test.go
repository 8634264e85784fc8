package doctor

import (
	"strings"
	"testing"
)

func TestParseRuntimeVersion(t *testing.T) {
	runc := "runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\nlibseccomp: 2.5.4\n"
	info, err := parseRuntimeVersion("runc", runc)
	if err != nil || info.Version.String() != "1.1.5" || info.Libseccomp.String() != "2.5.4" || !info.Seccomp {
		t.Errorf("runc: %+v %v", info, err)
	}
	crun := "crun version 1.8.1\ncommit: f8a096be060b22ccd3d5f3ebe44108517fbf6c30\nrundir: /run/user/0/crun\nspec: 1.0.0\n+SYSTEMD +SELINUX +APPARMOR +CAP +SECCOMP +EBPF +YAJL\n"
	info, err = parseRuntimeVersion("crun", crun)
	if err != nil || info.Version.String() != "1.8.1" || !info.Seccomp {
		t.Errorf("crun: %+v %v", info, err)
	}
	info, _ = parseRuntimeVersion("crun", "crun version 1.8.1\n+SYSTEMD -SECCOMP\n")
	if info.Seccomp {
		t.Errorf("crun -SECCOMP: %+v", info)
	}
	if _, err := parseRuntimeVersion("runc", "usage: runc\n"); err == nil {
		t.Error("no version accepted")
	}
}

func TestVersionAtLeast(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{{"1.1.0", "1.1.0", true}, {"1.0.3", "1.1.0", false}, {"1.10.0", "1.9.9", true}, {"0.19", "0.19.0", true}, {"1.23.1", "1.23.2", false}, {"1.24", "1.23.2", true}} {
		a, _ := parseVersion(tt.a)
		b, _ := parseVersion(tt.b)
		if got := a.atLeast(b); got != tt.want {
			t.Errorf("%s >= %s: %v", tt.a, tt.b, got)
		}
	}
}

func TestJudgeRuntime(t *testing.T) {
	v := func(s string) version { x, _ := parseVersion(s); return x }
	tests := []struct {
		info   RuntimeInfo
		euid   int
		status Status
		want   string
	}{
		{RuntimeInfo{Name: "runc", Version: v("1.1.5"), Libseccomp: v("2.5.4")}, 1000, OK, "listenerPath (SCMP_ACT_NOTIFY) supported"},
		{RuntimeInfo{Name: "runc", Version: v("1.0.3"), Libseccomp: v("2.5.4")}, 1000, Warn, "no seccomp listenerPath"},
		{RuntimeInfo{Name: "runc", Version: v("1.1.5"), Libseccomp: v("2.4.4")}, 1000, Warn, "libseccomp 2.4.4"},
		{RuntimeInfo{Name: "crun", Version: v("1.8.1"), Seccomp: true}, 1000, OK, "bare rootless crun"},
		{RuntimeInfo{Name: "crun", Version: v("1.8.1"), Seccomp: true}, 0, Warn, "#1845"},
		{RuntimeInfo{Name: "crun", Version: v("1.23.1"), Seccomp: true}, 0, Warn, "/dev/null"},
		{RuntimeInfo{Name: "crun", Version: v("1.24"), Seccomp: true}, 0, OK, "as root"},
		{RuntimeInfo{Name: "crun", Version: v("0.18"), Seccomp: true}, 1000, Warn, "no seccomp listenerPath"},
	}
	for _, tt := range tests {
		c := judgeRuntime(tt.info, tt.euid)
		if c.Status != tt.status || !strings.Contains(c.Message, tt.want) || (c.Status != OK && c.Remedy == "") {
			t.Errorf("%s %s euid %d: %s %q (remedy %q), want %s with %q", tt.info.Name, tt.info.Version, tt.euid, c.Status, c.Message, c.Remedy, tt.status, tt.want)
		}
	}
}
