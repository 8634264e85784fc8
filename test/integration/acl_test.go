package integration

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// aclScript sets ACLs that name uid 1000 and gid 4, which a single-id
// namespace does not map (systemd's postinst does `setfacl -m g:adm:r-x
// /var/log/journal`), and shows them with getfacl and the modes, after a
// chmod, a removed entry and a removed ACL too.
const aclScript = `set -e
mkdir d; : > f; chmod 0750 d; chmod 0640 f
setfacl -m g:4:r-x d
setfacl -d -m g:4:r-x,u:1000:rwx d
setfacl -m u:1000:rwx f
getfacl -n d f
stat -c '%n %A' d f
chmod 0700 d
getfacl -n d
setfacl -x g:4 d
getfacl -n d
setfacl -b f
getfacl -n f
stat -c '%n %A' d f
`

// unmappedEntries are getfacl's lines for the entries a single-id
// namespace cannot hold.
var unmappedEntries = regexp.MustCompile(`(?m)^(default:)?(user:1000|group:4):.*\n`)

// TestPOSIXACLUnmappedIDs compares setfacl/getfacl and the raw ACL xattr
// calls (test/programs/acl_calls.c) with real root's in a fully mapped
// namespace. Without remainroot the single-id namespace refuses the ACLs
// (EINVAL). Mode full shows exactly the kernel's ACLs and errors; mode
// creds drops the unmapped entries, as it drops chown's ids, and is
// otherwise the kernel: the same modes, masks and errors.
func TestPOSIXACLUnmappedIDs(t *testing.T) {
	rr := progSetup(t, "setfacl", "getfacl", "stat")
	calls := progCompileC(t, "acl_calls.c")
	kernel := func(name string, args ...string) string {
		out, stderr, code := testenv.Run(t, testenv.FullMapCommand(t, name, args...), time.Minute)
		if code != 0 {
			t.Fatalf("real root, %s: exit %d\n%s%s", name, code, out, stderr)
		}
		return out
	}
	wantScript := kernel("sh", "-c", aclScript)
	wantCalls := kernel(calls)
	if !unmappedEntries.MatchString(wantScript) {
		t.Fatalf("real root's getfacl shows no entries for uid 1000 or gid 4:\n%s", wantScript)
	}

	out, stderr, code := testenv.Run(t, testenv.SingleIDCommand(t, "sh", "-c", aclScript), time.Minute)
	if code == 0 || !strings.Contains(stderr, "Invalid argument") {
		t.Errorf("without remainroot: exit %d, want setfacl's EINVAL\n%s%s", code, out, stderr)
	}

	for _, mode := range []string{"creds", "full"} {
		t.Run(mode, func(t *testing.T) {
			under := func(argv ...string) string {
				cmd := testenv.SingleIDCommand(t, rr, append([]string{"run", "--mode", mode, "--"}, argv...)...)
				out, stderr, code := testenv.Run(t, cmd, 2*time.Minute)
				if code != 0 {
					t.Fatalf("remainroot --mode %s %s: exit %d\n%s%s", mode, argv[0], code, out, stderr)
				}
				return out
			}
			want := wantScript
			if mode == "creds" {
				want = unmappedEntries.ReplaceAllString(wantScript, "")
			}
			if got := under("sh", "-c", aclScript); got != want {
				t.Errorf("setfacl/getfacl under --mode %s:\n%s\nwant:\n%s\ndiff:\n%s", mode, got, want,
					lineDiff(want, got, "want", "got"))
			}
			if got := under(calls); got != wantCalls {
				t.Errorf("ACL xattr calls under --mode %s:\n%s\nwant (real root):\n%s\ndiff:\n%s", mode, got, wantCalls,
					lineDiff(wantCalls, got, "real root", "remainroot"))
			}
		})
	}
}
