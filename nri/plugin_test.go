package nri

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/nri/pkg/api"

	"github.com/remainroot/remainroot/hook"
)

const testSocket = "/run/remainroot/sup-test.sock"

// testPlugin is a plugin for runtime whose supervisors are not started:
// the config goes through the precreate rewrite (hook.RewriteForSupervisor)
// only. *started counts the supervisors it would have started.
func testPlugin(t *testing.T, runtime string, cfg Config) (*Plugin, *int) {
	t.Helper()
	cfg.HookPath = "/usr/local/bin/remainroot"
	p, err := NewPlugin(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	started := new(int)
	p.start = func(config []byte, _ hook.SupervisorOptions) (hook.Supervised, error) {
		r, err := hook.RewriteForSupervisor(config, testSocket)
		if err != nil {
			return hook.Supervised{}, err
		}
		*started++
		return hook.Supervised{Config: r.Config, Socket: testSocket}, nil
	}
	p.procRoot = fakeProc(t, map[string]string{"123": "0 100000 1\n", "456": "0 100000 65536\n"})
	if _, err := p.Configure(context.Background(), "", runtime, "v2.4.2"); err != nil {
		t.Fatal(err)
	}
	return p, started
}

// fakeProc is a /proc with uid_map and gid_map files for each pid.
func fakeProc(t *testing.T, maps map[string]string) string {
	root := t.TempDir()
	for pid, m := range maps {
		dir := filepath.Join(root, pid)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"uid_map", "gid_map"} {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(m), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// podContainer is a container as containerd describes it for a pod whose
// user namespace is that of pid (empty: the host's).
func podContainer(pid string, ann map[string]string, mounts []*api.Mount, namespaces ...string) *api.Container {
	l := &api.LinuxContainer{}
	for _, ns := range namespaces {
		l.Namespaces = append(l.Namespaces, &api.LinuxNamespace{Type: ns})
	}
	if pid != "" {
		l.Namespaces = append(l.Namespaces, &api.LinuxNamespace{Type: "user", Path: "/proc/" + pid + "/ns/user"})
	}
	return &api.Container{Id: "c1", Name: "app", Annotations: ann, Mounts: mounts, Linux: l}
}

var (
	devpts = &api.Mount{Destination: "/dev/pts", Type: "devpts", Source: "devpts",
		Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}
	sysfs = &api.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}}
)

func annotatedPod(ann map[string]string) *api.PodSandbox {
	return &api.PodSandbox{Id: "p1", Name: "pod", Namespace: "default", Annotations: ann}
}

func mountAt(adj *api.ContainerAdjustment, dest string) *api.Mount {
	if adj == nil {
		return nil
	}
	for _, m := range adj.Mounts {
		if m.Destination == dest {
			return m
		}
	}
	return nil
}

func TestCreateContainer(t *testing.T) {
	mode := map[string]string{"io.remainroot.mode": "creds"}
	tests := []struct {
		name      string
		runtime   string
		cfg       func(*Config)
		pod       map[string]string
		ctr       *api.Container
		wantErr   string
		wantStart int
		check     func(t *testing.T, adj *api.ContainerAdjustment)
	}{
		{
			name: "unannotated pod: untouched", runtime: "containerd",
			ctr: podContainer("123", nil, []*api.Mount{devpts, sysfs}),
			check: func(t *testing.T, adj *api.ContainerAdjustment) {
				if adj != nil {
					t.Errorf("adjustment %v, want none", adj)
				}
			},
		},
		{
			name: "other io.remainroot annotations without the mode: untouched", runtime: "containerd",
			pod: map[string]string{"io.remainroot.log-level": "debug"},
			ctr: podContainer("123", nil, []*api.Mount{devpts}),
			check: func(t *testing.T, adj *api.ContainerAdjustment) {
				if adj != nil {
					t.Errorf("adjustment %v, want none", adj)
				}
			},
		},
		{
			name: "malformed mode: an error for this container", runtime: "containerd",
			pod: map[string]string{"io.remainroot.mode": "bogus"}, ctr: podContainer("123", nil, nil),
			wantErr: "io.remainroot.mode",
		},
		{
			name: "malformed log level: an error for this container", runtime: "containerd",
			pod: map[string]string{"io.remainroot.mode": "creds", "io.remainroot.log-level": "loud"}, ctr: podContainer("123", nil, nil),
			wantErr: "io.remainroot.log-level",
		},
		{
			name: "pod annotation copied, hook added on containerd", runtime: "containerd",
			pod: mode, ctr: podContainer("123", nil, nil, "network"), wantStart: 1,
			check: func(t *testing.T, adj *api.ContainerAdjustment) {
				if adj.Annotations["io.remainroot.mode"] != "creds" {
					t.Errorf("annotations %v: the pod's mode is not copied", adj.Annotations)
				}
				hooks := adj.GetHooks().GetCreateRuntime()
				if len(hooks) != 1 || hooks[0].Path != "/usr/local/bin/remainroot" || !slices.Equal(hooks[0].Args, []string{"remainroot", "hook"}) {
					t.Errorf("createRuntime hooks %v, want remainroot hook", hooks)
				}
			},
		},
		{
			name: "container's own annotation: not copied again", runtime: "containerd",
			ctr: podContainer("123", mode, nil, "network"), wantStart: 1,
			check: func(t *testing.T, adj *api.ContainerAdjustment) {
				if _, ok := adj.Annotations["io.remainroot.mode"]; ok {
					t.Errorf("annotations %v: mode copied onto itself", adj.Annotations)
				}
			},
		},
		{
			name: "CRI-O reads hooks.d: no hook added", runtime: "cri-o",
			pod: mode, ctr: podContainer("123", nil, nil, "network"), wantStart: 1,
			check: func(t *testing.T, adj *api.ContainerAdjustment) {
				if adj.GetHooks() != nil {
					t.Errorf("hooks %v added on CRI-O", adj.GetHooks())
				}
			},
		},
		{
			name: "hook = always on CRI-O", runtime: "cri-o", cfg: func(c *Config) { c.Hook = HookAlways },
			pod: mode, ctr: podContainer("123", nil, nil, "network"), wantStart: 1,
			check: func(t *testing.T, adj *api.ContainerAdjustment) {
				if len(adj.GetHooks().GetCreateRuntime()) != 1 {
					t.Errorf("hooks %v, want the createRuntime hook", adj.GetHooks())
				}
			},
		},
		{
			name: "single-id pod: devpts without gid=5", runtime: "containerd",
			pod: mode, ctr: podContainer("123", nil, []*api.Mount{devpts, sysfs}, "network"), wantStart: 1,
			check: func(t *testing.T, adj *api.ContainerAdjustment) {
				m := mountAt(adj, "/dev/pts")
				if m == nil || m.Type != "devpts" || slices.Contains(m.Options, "gid=5") || !slices.Contains(m.Options, "newinstance") {
					t.Errorf("devpts %v, want its options without gid=5", m)
				}
				if m := mountAt(adj, "/sys"); m != nil {
					t.Errorf("/sys replaced (%v) in a pod with its own network namespace", m)
				}
			},
		},
		{
			name: "pod mapping gid 5: devpts kept", runtime: "containerd",
			pod: mode, ctr: podContainer("456", nil, []*api.Mount{devpts}, "network"), wantStart: 1,
			check: func(t *testing.T, adj *api.ContainerAdjustment) {
				if m := mountAt(adj, "/dev/pts"); m != nil {
					t.Errorf("devpts replaced by %v though gid 5 is mapped", m)
				}
			},
		},
		{
			name: "no user namespace: mounts kept", runtime: "containerd",
			pod: mode, ctr: podContainer("", nil, []*api.Mount{devpts, sysfs}), wantStart: 1,
			check: func(t *testing.T, adj *api.ContainerAdjustment) {
				if len(adj.Mounts) != 0 {
					t.Errorf("mounts %v changed without a user namespace", adj.Mounts)
				}
			},
		},
		{
			name: "host-network pod: host /sys bound read-only", runtime: "containerd",
			pod: mode, ctr: podContainer("123", nil, []*api.Mount{sysfs}), wantStart: 1,
			check: func(t *testing.T, adj *api.ContainerAdjustment) {
				m := mountAt(adj, "/sys")
				if m == nil || m.Type != "bind" || m.Source != "/sys" || !slices.Contains(m.Options, "ro") || !slices.Contains(m.Options, "rbind") {
					t.Errorf("/sys %v, want a read-only rbind of the host's", m)
				}
			},
		},
		{
			name: "host_sys = false: sysfs kept", runtime: "containerd", cfg: func(c *Config) { c.HostSys = false },
			pod: mode, ctr: podContainer("123", nil, []*api.Mount{sysfs}), wantStart: 1,
			check: func(t *testing.T, adj *api.ContainerAdjustment) {
				if m := mountAt(adj, "/sys"); m != nil {
					t.Errorf("/sys replaced by %v", m)
				}
			},
		},
		{
			name: "unconfined: a policy that allows all and notifies the credential calls", runtime: "containerd",
			pod: mode, ctr: podContainer("123", nil, nil, "network"), wantStart: 1,
			check: func(t *testing.T, adj *api.ContainerAdjustment) {
				sc := adj.GetLinux().GetSeccompPolicy()
				if sc == nil || sc.DefaultAction != "SCMP_ACT_ALLOW" || sc.ListenerPath != testSocket {
					t.Fatalf("seccomp policy %v, want ALLOW with listener %s", sc, testSocket)
				}
				if n := notified(sc); !slices.Contains(n, "setgroups") || !slices.Contains(n, "setresuid") {
					t.Errorf("notified calls %v, want setgroups and setresuid among them", n)
				}
				if adj.Annotations[hook.AnnotationSupervisor] != testSocket {
					t.Errorf("annotations %v, want %s=%s", adj.Annotations, hook.AnnotationSupervisor, testSocket)
				}
			},
		},
		{
			name: "runtime's profile: its ALLOW of setuid becomes NOTIFY, the rest kept", runtime: "containerd",
			pod: mode, wantStart: 1,
			ctr: func() *api.Container {
				c := podContainer("123", nil, nil, "network")
				c.Linux.SeccompProfile = &api.SecurityProfile{ProfileType: api.SecurityProfile_RUNTIME_DEFAULT}
				c.Linux.SeccompPolicy = &api.LinuxSeccomp{DefaultAction: "SCMP_ACT_ERRNO", Architectures: []string{"SCMP_ARCH_X86_64"},
					Syscalls: []*api.LinuxSyscall{{Names: []string{"read", "setuid"}, Action: "SCMP_ACT_ALLOW"}}}
				return c
			}(),
			check: func(t *testing.T, adj *api.ContainerAdjustment) {
				sc := adj.GetLinux().GetSeccompPolicy()
				if sc == nil || sc.DefaultAction != "SCMP_ACT_ERRNO" || sc.ListenerPath != testSocket {
					t.Fatalf("seccomp policy %v, want the profile's ERRNO default with the listener", sc)
				}
				if n := notified(sc); !slices.Equal(n, []string{"setuid"}) {
					t.Errorf("notified %v, want [setuid] (the only allowed credential call)", n)
				}
				if sc.Syscalls[0].Action != "SCMP_ACT_ALLOW" || !slices.Equal(sc.Syscalls[0].Names, []string{"read"}) {
					t.Errorf("first rule %v, want ALLOW read", sc.Syscalls[0])
				}
			},
		},
		{
			name: "profile without its policy (old runtime): no policy set, hook only", runtime: "containerd",
			pod: mode,
			ctr: func() *api.Container {
				c := podContainer("123", nil, nil, "network")
				c.Linux.SeccompProfile = &api.SecurityProfile{ProfileType: api.SecurityProfile_RUNTIME_DEFAULT}
				return c
			}(),
			check: func(t *testing.T, adj *api.ContainerAdjustment) {
				if adj.GetLinux().GetSeccompPolicy() != nil {
					t.Errorf("seccomp policy set over an unknown profile")
				}
				if len(adj.GetHooks().GetCreateRuntime()) != 1 {
					t.Errorf("no createRuntime hook")
				}
			},
		},
		{
			name: "exec = false: no supervisor", runtime: "containerd", cfg: func(c *Config) { c.Exec = false },
			pod: mode, ctr: podContainer("123", nil, nil, "network"),
			check: func(t *testing.T, adj *api.ContainerAdjustment) {
				if adj.GetLinux().GetSeccompPolicy() != nil || adj.Annotations[hook.AnnotationSupervisor] != "" {
					t.Errorf("supervisor set up with exec = false: %v", adj)
				}
			},
		},
		{
			name: "the profile has another agent: an error", runtime: "containerd",
			pod: mode, wantErr: "another seccomp agent",
			ctr: func() *api.Container {
				c := podContainer("123", nil, nil, "network")
				c.Linux.SeccompPolicy = &api.LinuxSeccomp{DefaultAction: "SCMP_ACT_ALLOW", ListenerPath: "/run/other.sock"}
				return c
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			p, started := testPlugin(t, tt.runtime, cfg)
			adj, upd, err := p.CreateContainer(context.Background(), annotatedPod(tt.pod), tt.ctr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one that names %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), "default/pod") {
					t.Errorf("err %q does not name the pod", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if upd != nil {
				t.Errorf("updates %v to other containers", upd)
			}
			if *started != tt.wantStart {
				t.Errorf("%d supervisors started, want %d", *started, tt.wantStart)
			}
			if tt.check != nil {
				tt.check(t, adj)
			}
		})
	}
}

// notified lists the calls of sc's NOTIFY rules.
func notified(sc *api.LinuxSeccomp) []string {
	var out []string
	for _, r := range sc.Syscalls {
		if r.Action == "SCMP_ACT_NOTIFY" {
			out = append(out, r.Names...)
		}
	}
	return out
}

func TestConfigure(t *testing.T) {
	p, _ := testPlugin(t, "containerd", DefaultConfig())
	if _, err := p.Configure(context.Background(), "exec = false\nhook = \"never\"\n", "containerd", "v2"); err != nil {
		t.Fatal(err)
	}
	if p.cfg.Exec || p.addsHook() {
		t.Errorf("config %+v: the runtime's config is not applied", p.cfg)
	}
	if _, err := p.Configure(context.Background(), "hook = \"sometimes\"", "containerd", "v2"); err == nil {
		t.Error("a bad hook value is accepted")
	}
}
