// Package nri is remainroot's NRI plugin (github.com/containerd/nri): the
// Kubernetes route, for engines (containerd; CRI-O too) that run no podman
// precreate hook. For pods or containers annotated io.remainroot.mode it
// copies remainroot's annotations into the container's spec, adds the
// createRuntime hook where the engine does not read hooks.d, makes a
// single-id pod's spec runnable (devpts without an unmappable gid=, the
// host's /sys for host-network pods), and gives every process of the
// container, exec'd ones too, the emulation: the container's config goes
// through the precreate hook's code (hook.Supervise) and the returned
// seccomp policy, with its listener, replaces the container's. The
// supervisor lives until NRI says the container stopped or was removed.
//
// No NRI event sees a pod's sandbox (pause) container: WrapRuntime, run as
// a link remainroot-runc given to containerd as the runtime, makes a
// single-id pod's sandbox config runnable before the real runc creates it.
package nri
