package doctor

import "github.com/remainroot/remainroot/config"

// Every check of `remainroot doctor`, in the order it prints them.

// All runs every check: the kernel's, then podman's and the runtimes'.
func All(o Options) []Check {
	return append(KernelChecks(), PodmanChecks(o)...)
}

// Options says where doctor looks.
type Options struct {
	Places        config.ConfPlaces
	HooksDirs     []string // replace containers.conf's hooks_dir (like podman --hooks-dir)
	BuildHooksDir string   // empty: $(PREFIX)/share/remainroot/build-hooks{,-full}.d of Self
	Self          string   // this binary
	EUID          int
	User          string // the user's name, for /etc/subuid
	Podman        string // podman's path; empty when not found
	SubUIDFile    string // /etc/subuid
}

// PodmanChecks runs the podman and runtime checks.
func PodmanChecks(o Options) []Check {
	if o.SubUIDFile == "" {
		o.SubUIDFile = "/etc/subuid"
	}
	var out []Check
	userns, single := usernsCheck(o)
	out = append(out, userns)

	conf, confErr := config.ReadContainersConf(o.Places.ContainersConfFiles())
	out = append(out, podmanCheck(o, conf, confErr))
	out = append(out, hooksDirCheck(o, conf, confErr))
	out = append(out, precreateCheck(o, conf, confErr))

	storage, storageErr := o.Places.ReadStorageConf()
	out = append(out, storageCheck(o, storage, storageErr, single))
	if storageErr == nil {
		out = append(out, UserXattrCheck("the image store", storage.GraphRoot))
	}
	if o.EUID != 0 {
		out = append(out, networkCheck(conf))
	}
	out = append(out, buildHooksChecks(o)...)
	out = append(out, RuntimeChecks(o.EUID, conf)...)
	return out
}
