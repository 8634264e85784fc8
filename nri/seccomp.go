package nri

import (
	"github.com/containerd/nri/pkg/api"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ociSeccomp converts NRI's view of a container's seccomp policy to the
// runtime spec's (NRI has the reverse, api.FromOCILinuxSeccomp, only).
func ociSeccomp(p *api.LinuxSeccomp) *specs.LinuxSeccomp {
	if p == nil {
		return nil
	}
	o := &specs.LinuxSeccomp{
		DefaultAction:    specs.LinuxSeccompAction(p.DefaultAction),
		ListenerPath:     p.ListenerPath,
		ListenerMetadata: p.ListenerMetadata,
		Syscalls:         api.ToOCILinuxSyscalls(p.Syscalls),
	}
	if p.DefaultErrno != nil {
		errno := uint(p.DefaultErrno.GetValue())
		o.DefaultErrnoRet = &errno
	}
	for _, a := range p.Architectures {
		o.Architectures = append(o.Architectures, specs.Arch(a))
	}
	for _, f := range p.Flags {
		o.Flags = append(o.Flags, specs.LinuxSeccompFlag(f))
	}
	return o
}

// policyKnown reports whether the container's seccomp policy as NRI gives
// it is the one the container gets: a runtime that reports a profile but
// no policy (before NRI 0.10) would lose the profile if the plugin set a
// policy built from nothing.
func policyKnown(ctr *api.Container) bool {
	l := ctr.GetLinux()
	if l.GetSeccompPolicy() != nil {
		return true
	}
	prof := l.GetSeccompProfile()
	return prof == nil || prof.GetProfileType() == api.SecurityProfile_UNCONFINED
}
