package attach

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"

	"github.com/remainroot/remainroot/attach/auxv"
	"github.com/remainroot/remainroot/attach/procfs"
	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/attach/route"
	"github.com/remainroot/remainroot/attach/route/notify"
	"github.com/remainroot/remainroot/shim"
)

// Identity is the user a process is to run as (Options.Identity).
type Identity = shim.Identity

// A container runtime switches to the container's user right before the
// execve of the container's process: setgroups, setresgid and setresuid
// with the ids of process.user. In a namespace that maps a single id the
// kernel refuses those calls. With Options.RefusedIDsBeforeExec the tracer
// answers them as the kernel would if the ids were mapped, keeping the
// result as the thread's shadow credentials; every other call of the
// runtime (capset, prctl, the getters of capabilities) runs natively, so
// the process's real capabilities are the ones the runtime chose. At the
// execve, emulation starts with the shadow's ids and groups and the
// capabilities the kernel gives them (shim.AfterExecAs).

// answerBeforeExec answers notification n of th, a thread that has not
// exec'd yet, when the call is one the runtime cannot make natively. It
// reports false when the kernel is to run the call.
func (t *Tracer) answerBeforeExec(th *thread, c route.Call, ans *notify.Answer) bool {
	call, mem := c.Call, c.Memory
	if th.shadow == nil {
		if !shim.SetsIDs(call.Nr) || !shim.RefusedByMapping(call, mem, t.idSpace(th.tid)) {
			return false
		}
		real, err := procfs.RealCreds(th.tid)
		if err != nil {
			t.log.Warn("cannot read the credentials of a runtime thread; its call runs natively", "tid", th.tid, "err", err)
			return false
		}
		th.shadow = &real
	}
	if !shim.SetsIDs(call.Nr) && !shim.GetsIDs(call.Nr) {
		return false
	}
	creds, out := t.emulate(th, *th.shadow, call, mem, env{t: t, th: th})
	if out.Kind != shim.Return {
		return false
	}
	th.shadow = &creds
	ans.Return(out.Value)
	t.log.Debug("before exec: answered for an unmapped id", "tid", th.tid, "call", callName(call.Nr),
		"args", call.Args[:3], "value", out.Value, "shadow", slog.AnyValue(creds))
	return true
}

// idSpace tells which ids tid's user namespace maps.
func (t *Tracer) idSpace(tid int) shim.IDSpace {
	uids := procfs.ReadIDMap(fmt.Sprintf("/proc/%d/uid_map", tid))
	gids := procfs.ReadIDMap(fmt.Sprintf("/proc/%d/gid_map", tid))
	sg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/setgroups", tid))
	return shim.IDSpace{
		UIDMapped:       func(id uint32) bool { return mappedInside(uids, id) },
		GIDMapped:       func(id uint32) bool { return mappedInside(gids, id) },
		SetgroupsDenied: string(bytes.TrimSpace(sg)) == "deny",
	}
}

// mappedInside reports whether id, as the namespace sees it, is mapped.
func mappedInside(ext []procfs.IDExtent, id uint32) bool {
	for _, e := range ext {
		if uint64(id) >= e.Inside && uint64(id) < e.Inside+e.Count {
			return true
		}
	}
	return false
}

// identityAtExec returns the identity th takes at its first execve, if
// any: Options.Identity for the main process (what the runtime was asked
// for), else the shadow of its runtime's refused calls.
func (t *Tracer) identityAtExec(th *thread) *Identity {
	if t.opts.Identity != nil && tgidOf(th.tid) == t.main {
		return t.opts.Identity
	}
	if th.shadow != nil {
		id := shim.IdentityOf(*th.shadow)
		return &id
	}
	return nil
}

// startEmulatingAs starts emulation at th's first execve as identity id.
func (t *Tracer) startEmulatingAs(th *thread, id *Identity) error {
	if err := t.startEmulating(th); err != nil {
		return err
	}
	th.shadow = nil
	if id == nil {
		return nil
	}
	f, err := t.execFile(th.tid)
	if err != nil {
		return fmt.Errorf("exec as %d:%d: inspect the program: %w", id.UID, id.GID, err)
	}
	// The kernel exec'd the program as the runtime's real root; the
	// emulated execve is the same one made by id.
	pre := shim.WithIdentity(th.real, *id)
	th.creds = pre.Exec(f)
	t.log.Debug("emulation starts as the container's user", "tid", th.tid, "creds", slog.AnyValue(th.creds))
	if !th.diverged() {
		return nil
	}
	if r, err := ptrace.GetRegs(th.tid); err != nil {
		t.log.Warn("exec: cannot read registers for the auxv", "tid", th.tid, "err", err)
	} else if err := auxv.Fix(th.tid, r.SP(), th.creds, shim.SecureExec(pre, th.creds)); err != nil {
		t.log.Warn("exec: cannot rewrite the auxv", "tid", th.tid, "err", err)
	}
	return nil
}
