package config

import "path/filepath"

// Where podman and buildah find remainroot's hooks: the names of the
// hooks.d documents `make install` and the .deb put in their directories,
// and the stage the hook runs at. Package hook writes the documents;
// `remainroot doctor` looks for them.

// HookStage is the only OCI hook stage remainroot runs at: after the
// runtime has created the container's namespaces and init, before
// pivot_root and before the user's process is exec'd. (prestart is
// deprecated and newer podman maps it onto createRuntime: listing both
// would run the hook twice.)
const HookStage = "createRuntime"

// The hooks.d documents' file names.
const (
	// HooksFileName is the createRuntime hook's file, in podman's hooks_dir.
	HooksFileName = "remainroot.json"
	// PrecreateFileName is the precreate hook's file, in a directory of
	// its own that podman's hooks_dir lists (a containers.conf drop-in):
	// buildah reads /usr/share/containers/oci/hooks.d for root builds,
	// loads hooks without extension stages, and fails every build that
	// finds a precreate hook there ("unknown stage").
	PrecreateFileName = "remainroot-precreate.json"
	// BuildFileName is the build hooks directory's hook (podman build
	// --hooks-dir DIR).
	BuildFileName = "remainroot-build.json"
)

var buildHooksSubdirs = []struct{ mode, dir string }{
	{"creds", "share/remainroot/build-hooks.d"},
	{"full", "share/remainroot/build-hooks-full.d"},
}

// BuildHooksDirs are the build hooks directories that belong to the binary
// at self, by mode: $(PREFIX)/share/remainroot/build-hooks.d (creds) and
// build-hooks-full.d (full) for $(PREFIX)/bin/remainroot.
func BuildHooksDirs(self string) map[string]string {
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	prefix := filepath.Dir(filepath.Dir(self))
	dirs := map[string]string{}
	for _, d := range buildHooksSubdirs {
		dirs[d.mode] = filepath.Join(prefix, d.dir)
	}
	return dirs
}
