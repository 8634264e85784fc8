package shim

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

var all = AllCaps(40)

func user(uid, gid uint32) Creds {
	return Creds{UID: uid, EUID: uid, SUID: uid, FSUID: uid, GID: gid, EGID: gid, SGID: gid, FSGID: gid}
}

func TestUIDSetters(t *testing.T) {
	root := Root(all)
	type ids struct{ r, e, s, fs uint32 }
	cases := []struct {
		name    string
		from    Creds
		call    func(Creds) (Creds, error)
		want    ids
		wantErr error
		// capability expectations after the call
		eff, prm CapSet
	}{
		{"setuid as root sets all", root, func(c Creds) (Creds, error) { return c.SetUID(1000) },
			ids{1000, 1000, 1000, 1000}, nil, 0, 0},
		{"setuid(-1) is EINVAL", root, func(c Creds) (Creds, error) { return c.SetUID(NoID) },
			ids{0, 0, 0, 0}, unix.EINVAL, all, all},
		{"unprivileged setuid to saved id", Creds{UID: 1000, EUID: 1000, SUID: 0, FSUID: 1000},
			func(c Creds) (Creds, error) { return c.SetUID(0) }, ids{1000, 0, 0, 0}, nil, 0, 0},
		{"unprivileged setuid elsewhere is EPERM", user(1000, 1000),
			func(c Creds) (Creds, error) { return c.SetUID(0) }, ids{1000, 1000, 1000, 1000}, unix.EPERM, 0, 0},
		{"seteuid keeps permitted, clears effective", root,
			func(c Creds) (Creds, error) { return c.SetRESUID(NoID, 42, NoID) }, ids{0, 42, 0, 42}, nil, 0, all},
		{"seteuid back to 0 restores effective", Creds{EUID: 42, FSUID: 42, Caps: CapSets{Permitted: all, Bounding: all}},
			func(c Creds) (Creds, error) { return c.SetRESUID(NoID, 0, NoID) }, ids{0, 0, 0, 0}, nil, all, all},
		{"setresuid no-op succeeds unprivileged", user(5, 5),
			func(c Creds) (Creds, error) { return c.SetRESUID(NoID, NoID, NoID) }, ids{5, 5, 5, 5}, nil, 0, 0},
		{"setresuid to a new id unprivileged is EPERM", user(5, 5),
			func(c Creds) (Creds, error) { return c.SetRESUID(NoID, 6, NoID) }, ids{5, 5, 5, 5}, unix.EPERM, 0, 0},
		{"setreuid(-1,X) with X != ruid sets suid", root,
			func(c Creds) (Creds, error) { return c.SetREUID(NoID, 7) }, ids{0, 7, 7, 7}, nil, 0, all},
		{"setreuid(X,-1) sets suid to euid", root,
			func(c Creds) (Creds, error) { return c.SetREUID(7, NoID) }, ids{7, 0, 0, 0}, nil, all, all},
		{"unprivileged setreuid swap", Creds{UID: 1, EUID: 2, SUID: 2, FSUID: 2},
			func(c Creds) (Creds, error) { return c.SetREUID(2, 1) }, ids{2, 1, 1, 1}, nil, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.call(c.from)
			if !errors.Is(err, c.wantErr) && err != c.wantErr {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if g := (ids{got.UID, got.EUID, got.SUID, got.FSUID}); g != c.want {
				t.Errorf("ids = %v, want %v", g, c.want)
			}
			if got.Caps.Effective != c.eff || got.Caps.Permitted != c.prm {
				t.Errorf("caps eff=%#x prm=%#x, want eff=%#x prm=%#x", got.Caps.Effective, got.Caps.Permitted, c.eff, c.prm)
			}
		})
	}
}

func TestKeepCaps(t *testing.T) {
	c, err := Root(all).SetKeepCaps(1)
	if err != nil {
		t.Fatal(err)
	}
	c, _ = c.SetRESUID(1000, 1000, 1000)
	if c.Caps.Permitted != all || c.Caps.Effective != 0 {
		t.Errorf("with keepcaps: prm=%#x eff=%#x, want prm=all eff=0", c.Caps.Permitted, c.Caps.Effective)
	}
	if _, err := c.SetKeepCaps(2); err != unix.EINVAL {
		t.Errorf("PR_SET_KEEPCAPS 2: %v, want EINVAL", err)
	}
	c2, err := c.SetCaps(1<<CapSetuid, all, 0)
	if err != nil || c2.Caps.Effective != 1<<CapSetuid {
		t.Errorf("raise effective from permitted: %v %#x", err, c2.Caps.Effective)
	}
	if _, err := c2.SetUID(0); err != nil {
		t.Errorf("setuid(0) with CAP_SETUID: %v", err)
	}
	// Exec clears keepcaps.
	if e := c.Exec(ExecFile{}); e.KeepCaps() != 0 || e.Caps.Permitted != 0 {
		t.Errorf("after exec: keepcaps=%d prm=%#x", e.KeepCaps(), e.Caps.Permitted)
	}
}

func TestSetFSUIDTogglesFilesystemCaps(t *testing.T) {
	c, old := Root(all).SetFSUID(1000)
	if old != 0 || c.FSUID != 1000 || c.Caps.Effective != all&^FSCaps {
		t.Fatalf("setfsuid(1000): old=%d fsuid=%d eff=%#x", old, c.FSUID, c.Caps.Effective)
	}
	c, old = c.SetFSUID(0)
	if old != 1000 || c.Caps.Effective != all {
		t.Errorf("setfsuid(0): old=%d eff=%#x", old, c.Caps.Effective)
	}
	u := user(5, 5)
	if n, old := u.SetFSUID(9); old != 5 || n.FSUID != 5 {
		t.Errorf("unprivileged setfsuid(9): old=%d fsuid=%d, want refused", old, n.FSUID)
	}
}

func TestGroups(t *testing.T) {
	c, err := Root(all).SetGroups([]uint32{30, 10, 20})
	if err != nil || len(c.Groups) != 3 || c.Groups[0] != 10 {
		t.Fatalf("setgroups: %v %v", err, c.Groups)
	}
	if _, err := user(1, 1).SetGroups(nil); err != unix.EPERM {
		t.Errorf("unprivileged setgroups: %v, want EPERM", err)
	}
	if _, err := Root(all).SetGroups(make([]uint32, NGroupsMax+1)); err != unix.EINVAL {
		t.Errorf("too many groups: %v, want EINVAL", err)
	}
	if _, err := Root(all).SetGroups([]uint32{NoID}); err != unix.EINVAL {
		t.Errorf("group -1: %v, want EINVAL", err)
	}
}

func TestCapsetRules(t *testing.T) {
	root := Root(all)
	dropped, err := root.SetCaps(all&^(1<<CapChown), all&^(1<<CapChown), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dropped.SetCaps(all, all, 0); err != unix.EPERM {
		t.Errorf("raising permitted: %v, want EPERM", err)
	}
	if _, err := root.SetCaps(all, 1, 0); err != unix.EPERM {
		t.Errorf("effective beyond permitted: %v, want EPERM", err)
	}
	noSetpcap, _ := root.SetCaps(1<<CapChown, 1<<CapChown, 0)
	if _, err := noSetpcap.SetCaps(0, 0, 1<<CapSetuid); err != unix.EPERM {
		t.Errorf("inheritable beyond permitted without CAP_SETPCAP: %v, want EPERM", err)
	}
}

func TestSecurebits(t *testing.T) {
	c, err := Root(all).SetSecurebits(1<<SecureKeepCaps | 1<<(SecureKeepCaps+1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetKeepCaps(0); err != unix.EPERM {
		t.Errorf("keepcaps change while locked: %v, want EPERM", err)
	}
	if _, err := c.SetSecurebits(0); err != unix.EPERM {
		t.Errorf("clearing a lock: %v, want EPERM", err)
	}
	if _, err := Root(all).SetSecurebits(1 << 20); err != unix.EPERM {
		t.Errorf("unknown bit: %v, want EPERM", err)
	}
}

func TestExecSetuidRoot(t *testing.T) {
	u := user(1000, 1000)
	got := u.Exec(ExecFile{SetUID: true, UID: 0})
	if got.EUID != 0 || got.SUID != 0 || got.UID != 1000 || got.Caps.Permitted != 0 {
		// Root rule: euid 0 gives P' = inheritable | bounding, which is 0
		// for a user with an empty bounding set in this fixture.
		t.Errorf("setuid-root exec: %s", got)
	}
	u.Caps.Bounding = all
	got = u.Exec(ExecFile{SetUID: true, UID: 0})
	if got.Caps.Permitted != all || got.Caps.Effective != all {
		t.Errorf("setuid-root exec with full bounding set: %s", got)
	}
	half := Creds{UID: 0, EUID: 1000, SUID: 0, FSUID: 1000, Caps: CapSets{Bounding: all, Permitted: all}}
	got = half.Exec(ExecFile{})
	if got.Caps.Permitted != all || got.Caps.Effective != 0 || got.SUID != 1000 {
		t.Errorf("exec with ruid 0, euid 1000: %s", got)
	}
}

func TestChownAllowed(t *testing.T) {
	u := user(1000, 1000)
	u.Groups = []uint32{50}
	cases := []struct {
		fileUID, fileGID, uid, gid uint32
		want                       error
	}{
		{1000, 1000, NoID, 50, nil},
		{1000, 1000, NoID, 51, unix.EPERM},
		{1000, 1000, 1000, NoID, nil},
		{1000, 1000, 0, NoID, unix.EPERM},
		{0, 0, NoID, 50, unix.EPERM},
		{0, 0, NoID, NoID, nil},
	}
	for _, c := range cases {
		if got := u.ChownAllowed(c.fileUID, c.fileGID, c.uid, c.gid); got != c.want {
			t.Errorf("chown %d:%d of %d:%d: %v, want %v", int32(c.uid), int32(c.gid), c.fileUID, c.fileGID, got, c.want)
		}
	}
	if err := Root(all).ChownAllowed(5, 5, 1, 1); err != nil {
		t.Errorf("root: %v", err)
	}
}
