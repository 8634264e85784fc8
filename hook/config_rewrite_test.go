package hook

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/remainroot/remainroot/attach/seccomp"
	"github.com/remainroot/remainroot/config"
)

var testNotified = []string{"capget", "capset", "getuid", "setgroups", "setresuid", "setuid"}

func allMapped(uid, gid uint32) bool { return true }
func onlyRoot(uid, gid uint32) bool  { return uid == 0 && gid == 0 }
func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decoded is the part of a rewritten config the tests look at.
type decoded struct {
	Process     *specs.Process    `json:"process"`
	Linux       *specs.Linux      `json:"linux"`
	Annotations map[string]string `json:"annotations"`
	Extra       map[string]any    `json:"x-extra"`
}

func rewriteOK(t *testing.T, cfg string, mapped func(uid, gid uint32) bool) (decoded, rewritten) {
	t.Helper()
	out, err := rewriteConfig([]byte(cfg), "/run/remainroot/sup-x.sock", testNotified, mapped)
	if err != nil {
		t.Fatalf("rewriteConfig: %v\n%s", err, cfg)
	}
	var d decoded
	if err := json.Unmarshal(out.Config, &d); err != nil {
		t.Fatalf("rewritten config is not JSON: %v\n%s", err, out.Config)
	}
	if d.Linux == nil || d.Linux.Seccomp == nil || d.Linux.Seccomp.ListenerPath != "/run/remainroot/sup-x.sock" {
		t.Fatalf("no listenerPath in\n%s", out.Config)
	}
	if d.Annotations[AnnotationSupervisor] != "/run/remainroot/sup-x.sock" {
		t.Errorf("annotations %v lack %s", d.Annotations, AnnotationSupervisor)
	}
	return d, out
}

// rulesFor returns the actions of the rules that name call.
func rulesFor(sc *specs.LinuxSeccomp, call string) []specs.LinuxSyscall {
	var out []specs.LinuxSyscall
	for _, r := range sc.Syscalls {
		if slices.Contains(r.Names, call) {
			out = append(out, r)
		}
	}
	return out
}

func TestRewriteUnconfined(t *testing.T) {
	d, out := rewriteOK(t, `{"ociVersion":"1.0.2","process":{"user":{"uid":0,"gid":0}},"linux":{"namespaces":[{"type":"pid"}]},"x-extra":{"kept":true}}`, allMapped)
	sc := d.Linux.Seccomp
	if sc.DefaultAction != specs.ActAllow {
		t.Errorf("defaultAction %q, want SCMP_ACT_ALLOW for a container without a profile", sc.DefaultAction)
	}
	if len(sc.Architectures) == 0 {
		t.Error("no architectures: libseccomp would kill other ABIs' calls")
	}
	for _, c := range testNotified {
		if r := rulesFor(sc, c); len(r) != 1 || r[0].Action != specs.ActNotify {
			t.Errorf("%s: rules %+v, want one SCMP_ACT_NOTIFY", c, r)
		}
	}
	if d.Extra["kept"] != true {
		t.Errorf("unknown top-level field lost: %s", out.Config)
	}
	if len(d.Linux.Namespaces) != 1 {
		t.Errorf("linux.namespaces changed: %+v", d.Linux.Namespaces)
	}
	if out.User != nil {
		t.Errorf("root user reported as rewritten: %+v", out.User)
	}
}

// podmanLike is the shape of podman's default profile: default ERRNO, one
// big ALLOW list, rules with conditions and other actions.
const podmanLike = `{"ociVersion":"1.0.2","process":{"user":{"uid":0,"gid":0}},"linux":{"seccomp":{
  "defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"architectures":["SCMP_ARCH_X86_64"],
  "syscalls":[
    {"names":["read","setuid","setresuid","capget","capset","getuid"],"action":"SCMP_ACT_ALLOW"},
    {"names":["setgroups"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]},
    {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]},
    {"names":["setuid"],"action":"SCMP_ACT_ERRNO","errnoRet":1,"args":[{"index":0,"value":4242,"op":"SCMP_CMP_EQ"}]}
  ]}}}`

func TestRewritePodmanProfile(t *testing.T) {
	d, _ := rewriteOK(t, podmanLike, allMapped)
	sc := d.Linux.Seccomp
	if sc.DefaultAction != specs.ActErrno || sc.DefaultErrnoRet == nil || *sc.DefaultErrnoRet != 38 {
		t.Errorf("default action changed: %q %v", sc.DefaultAction, sc.DefaultErrnoRet)
	}
	for _, c := range []string{"setresuid", "capget", "capset", "getuid"} {
		rules := rulesFor(sc, c)
		if len(rules) != 1 || rules[0].Action != specs.ActNotify {
			t.Errorf("%s: %+v, want only the NOTIFY rule (taken out of the ALLOW list)", c, rules)
		}
	}
	if r := rulesFor(sc, "read"); len(r) != 1 || r[0].Action != specs.ActAllow {
		t.Errorf("read: %+v, want its ALLOW rule kept", r)
	}
	// setgroups is allowed only for some arguments: left to the profile.
	if r := rulesFor(sc, "setgroups"); len(r) != 1 || r[0].Action != specs.ActAllow || len(r[0].Args) != 1 {
		t.Errorf("setgroups: %+v, want the conditional ALLOW alone", r)
	}
	// setuid: unconditionally allowed, and refused for one argument: the
	// refusal stays, and wins over the notification (ERRNO > NOTIFY).
	rules := rulesFor(sc, "setuid")
	var acts []specs.LinuxSeccompAction
	for _, r := range rules {
		acts = append(acts, r.Action)
	}
	if !slices.Contains(acts, specs.ActNotify) || !slices.Contains(acts, specs.ActErrno) || slices.Contains(acts, specs.ActAllow) {
		t.Errorf("setuid: actions %v, want NOTIFY and the conditional ERRNO", acts)
	}
}

func TestRewriteKeepsDenials(t *testing.T) {
	// setresuid is not listed and the default refuses it: it stays refused.
	cfg := `{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["getuid"],"action":"SCMP_ACT_ALLOW"}]}}}`
	d, _ := rewriteOK(t, cfg, allMapped)
	if r := rulesFor(d.Linux.Seccomp, "setresuid"); len(r) != 0 {
		t.Errorf("setresuid, refused by the profile, got rules %+v", r)
	}
	if r := rulesFor(d.Linux.Seccomp, "getuid"); len(r) != 1 || r[0].Action != specs.ActNotify {
		t.Errorf("getuid: %+v", r)
	}
}

func TestRewriteUser(t *testing.T) {
	cfg := `{"process":{"user":{"uid":1000,"gid":1000,"additionalGids":[1000,27],"umask":18},"args":["id"]},"linux":{}}`
	d, out := rewriteOK(t, cfg, onlyRoot)
	if out.User == nil || out.User.UID != 1000 || out.User.GID != 1000 || !slices.Equal(out.User.Groups, []uint32{1000, 27}) {
		t.Fatalf("identity %+v, want 1000:1000 groups [1000 27]", out.User)
	}
	u := d.Process.User
	if u.UID != 0 || u.GID != 0 || len(u.AdditionalGids) != 0 || u.Umask == nil || *u.Umask != 18 {
		t.Errorf("process.user %+v, want 0:0, no groups, umask kept", u)
	}
	if !slices.Equal(d.Process.Args, []string{"id"}) {
		t.Errorf("process.args changed: %v", d.Process.Args)
	}
	// The same user in a namespace that maps it: left to the runtime.
	_, out = rewriteOK(t, cfg, allMapped)
	if out.User != nil {
		t.Errorf("mapped user rewritten: %+v", out.User)
	}
	// Root with an unmapped supplementary group.
	_, out = rewriteOK(t, `{"process":{"user":{"uid":0,"gid":0,"additionalGids":[10]}},"linux":{}}`, onlyRoot)
	if out.User == nil || out.User.UID != 0 || !slices.Equal(out.User.Groups, []uint32{10}) {
		t.Errorf("root with group 10: identity %+v", out.User)
	}
}

func TestRewriteRefuses(t *testing.T) {
	cases := []struct{ name, cfg, want string }{
		{"empty", ``, "empty input"},
		{"not json", `{"linux":`, "invalid JSON"},
		{"array", `[1,2]`, "invalid JSON"},
		{"null", `null`, "not a JSON object"},
		{"no linux", `{"process":{}}`, `no "linux" section`},
		{"seccomp not an object", `{"linux":{"seccomp":"allow"}}`, `"seccomp"`},
		{"user not an object", `{"linux":{},"process":{"user":7}}`, `"user"`},
		{"uid out of range", `{"linux":{},"process":{"user":{"uid":-1}}}`, `"user"`},
		{"annotations not strings", `{"linux":{},"annotations":{"a":1}}`, `"annotations"`},
		{"other agent", `{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/other.sock"}}}`, "another seccomp agent"},
		{"notify rules", `{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mount"],"action":"SCMP_ACT_NOTIFY"}]}}}`, "another seccomp agent"},
		{"notify default", `{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_NOTIFY"}}}`, "defaultAction is SCMP_ACT_NOTIFY"},
		{"case variant", `{"linux":{"Seccomp":{"defaultAction":"SCMP_ACT_ERRNO"}}}`, `a key spelled "Seccomp"`},
		{"case variant top", `{"linux":{},"LINUX":{}}`, `a key spelled "LINUX"`},
		{"huge", `{"linux":{},"x":"` + strings.Repeat("a", MaxConfigSize) + `"}`, "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := rewriteConfig([]byte(c.cfg), "/s", testNotified, allMapped)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestIdentityFlag(t *testing.T) {
	for _, s := range []string{"1000:1000", "0:0:10", "65534:65534:65534,100,4294967294"} {
		id, err := parseIdentity(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if got := formatIdentity(id); got != s {
			t.Errorf("round trip %q -> %q", s, got)
		}
	}
	for _, s := range []string{"", "1000", "a:b", "1:2:3:4", "1:2:x", "4294967296:0"} {
		if _, err := parseIdentity(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestProcessFlag(t *testing.T) {
	cases := map[string][]string{
		"/p.json": {"crun", "--root", "/r", "exec", "--process", "/p.json", "--detach", "id"},
		"/q.json": {"runc", "exec", "--process=/q.json", "id"},
		"/s.json": {"youki", "exec", "-p", "/s.json", "id"},
		"":        {"runc", "exec", "id", "--process"},
	}
	for want, argv := range cases {
		if got := processFlag(argv); got != want {
			t.Errorf("%v: %q, want %q", argv, got, want)
		}
	}
}

// Mode creds traces lazily, so the runtime's filter must notify every
// emulated call (a ptrace-only rule fails with ENOSYS in a released
// process); mode full keeps to the value-answered calls and its own filter.
func TestNotifiedCallsByMode(t *testing.T) {
	creds, full := notifiedCalls(config.ModeCreds), notifiedCalls(config.ModeFull)
	if !slices.Equal(creds, seccomp.LazyRuntimeNotifiedCalls()) {
		t.Errorf("mode creds notifies %v", creds)
	}
	if !slices.Equal(full, seccomp.RuntimeNotifiedCalls()) {
		t.Errorf("mode full notifies %v", full)
	}
	for _, name := range []string{"chown", "fchownat", "prctl", "setxattr"} {
		if !slices.Contains(creds, name) {
			t.Errorf("mode creds does not notify %s", name)
		}
		if slices.Contains(full, name) {
			t.Errorf("mode full notifies %s", name)
		}
	}
}
