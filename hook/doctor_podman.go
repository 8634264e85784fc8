package hook

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	hooks "go.podman.io/common/pkg/hooks"
	current "go.podman.io/common/pkg/hooks/1.0.0"
	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach"
	"github.com/remainroot/remainroot/config"
	"github.com/remainroot/remainroot/doctor"
)

// What `remainroot doctor` checks of podman's setup: the user namespace it
// will use, its hooks directories, its storage, the rootless network and
// the build hooks directory. The remedies are the README's, in one place.

// The build hooks directories `make install` puts under $(PREFIX)/share,
// for `podman build --hooks-dir DIR`, by mode.
var buildHooksSubdirs = []struct{ mode, dir string }{
	{"creds", "share/remainroot/build-hooks.d"},
	{"full", "share/remainroot/build-hooks-full.d"},
}

// podmanExtensionStages are the stages podman accepts beyond the OCI ones
// when it reads hooks directories (libpod); buildah accepts none.
var podmanExtensionStages = []string{"precreate", "poststop"}

// DoctorOptions says where doctor looks.
type DoctorOptions struct {
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
func PodmanChecks(o DoctorOptions) []doctor.Check {
	if o.SubUIDFile == "" {
		o.SubUIDFile = "/etc/subuid"
	}
	var out []doctor.Check
	userns, single := usernsCheck(o)
	out = append(out, userns)

	conf, confErr := config.ReadContainersConf(o.Places.ContainersConfFiles())
	out = append(out, podmanCheck(o, conf, confErr))
	out = append(out, hooksDirCheck(o, conf, confErr))
	out = append(out, precreateCheck(o, conf, confErr))

	storage, storageErr := o.Places.ReadStorageConf()
	out = append(out, storageCheck(o, storage, storageErr, single))
	if storageErr == nil {
		out = append(out, attach.UserXattrCheck("the image store", storage.GraphRoot))
	}
	if o.EUID != 0 {
		out = append(out, networkCheck(conf))
	}
	out = append(out, buildHooksChecks(o)...)
	out = append(out, RuntimeChecks(o.EUID, conf)...)
	return out
}

// Check names.
const (
	checkUserNS     = "user namespace"
	checkPodman     = "podman: version"
	checkHooksDir   = "podman: hooks_dir"
	checkPrecreate  = "podman: precreate hook"
	checkStorage    = "podman: storage"
	checkNetwork    = "podman: rootless network"
	checkBuildHooks = "podman build: hooks directory"
)

// runOutput runs a command with a timeout and returns its stdout, or an
// error carrying the last line of its stderr.
func runOutput(timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
			return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, last)
		}
		return string(out), fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return string(out), nil
}

// idRange is one line of a uid_map: count ids from inside map to outside.
type idRange struct{ inside, outside, count uint64 }

// parseIDMap parses /proc/PID/uid_map (or gid_map) text.
func parseIDMap(s string) ([]idRange, error) {
	var out []idRange
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("malformed id map line %q", strings.TrimSpace(line))
		}
		var r idRange
		var err error
		for i, p := range []*uint64{&r.inside, &r.outside, &r.count} {
			if *p, err = strconv.ParseUint(f[i], 10, 32); err != nil {
				return nil, fmt.Errorf("malformed id map line %q: %w", strings.TrimSpace(line), err)
			}
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, errors.New("empty id map")
	}
	return out, nil
}

func mappedIDs(m []idRange) uint64 {
	var n uint64
	for _, r := range m {
		n += r.count
	}
	return n
}

func fmtIDMap(m []idRange) string {
	s := make([]string, len(m))
	for i, r := range m {
		s[i] = fmt.Sprintf("%d %d %d", r.inside, r.outside, r.count)
	}
	return strings.Join(s, ", ")
}

// subIDRanges returns the count of subordinate ids /etc/subuid gives user
// (by name or uid) and the lines that gave them.
func subIDRanges(data, user string, uid int) (count uint64, lines []string) {
	id := strconv.Itoa(uid)
	for line := range strings.Lines(data) {
		line = strings.TrimSpace(line)
		f := strings.Split(line, ":")
		if len(f) != 3 || (f[0] != user && f[0] != id) {
			continue
		}
		_, errStart := strconv.ParseUint(f[1], 10, 32)
		n, err := strconv.ParseUint(f[2], 10, 32)
		if errStart != nil || err != nil {
			continue
		}
		count += n
		lines = append(lines, line)
	}
	return count, lines
}

const singleMappingNote = "remainroot is what makes set*id, setgroups and chown work there: annotate containers with io.remainroot.mode=creds"

// usernsCheck finds the user namespace podman will use and says whether
// remainroot is needed; single reports a single-id mapping.
func usernsCheck(o DoctorOptions) (c doctor.Check, single bool) {
	self, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return doctor.Warning(checkUserNS, "Run doctor where /proc is mounted.", "cannot read /proc/self/uid_map: %v", err), false
	}
	own, err := parseIDMap(string(self))
	if err != nil {
		return doctor.Warning(checkUserNS, "Run doctor where /proc is mounted.", "/proc/self/uid_map: %v", err), false
	}
	if mappedIDs(own) == 1 {
		return doctor.Pass(checkUserNS, "doctor itself runs in a single-id user namespace (%s): %s, or use remainroot run -- CMD", fmtIDMap(own), singleMappingNote), true
	}
	if o.EUID == 0 {
		return doctor.Pass(checkUserNS, "root, in a namespace mapping %d ids: podman as root maps every id and needs no remainroot, except for containers given a single-id user namespace (--uidmap 0:ID:1)", mappedIDs(own)), false
	}
	if o.Podman != "" {
		out, err := runOutput(60*time.Second, o.Podman, "unshare", "cat", "/proc/self/uid_map")
		if err != nil {
			return doctor.Warning(checkUserNS, "Run `podman unshare cat /proc/self/uid_map` to see why podman cannot create its user namespace.", "%v", err), false
		}
		m, err := parseIDMap(out)
		if err != nil {
			return doctor.Warning(checkUserNS, "Run `podman unshare cat /proc/self/uid_map` and check its output.", "podman unshare: %v", err), false
		}
		if mappedIDs(m) == 1 {
			return doctor.Pass(checkUserNS, "podman maps a single id (uid_map %s): %s", fmtIDMap(m), singleMappingNote), true
		}
		return doctor.Pass(checkUserNS, "podman maps %d ids (uid_map %s): programs can change ids there, remainroot is not needed (it still works)", mappedIDs(m), fmtIDMap(m)), false
	}
	data, err := os.ReadFile(o.SubUIDFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return doctor.Warning(checkUserNS, "Make "+o.SubUIDFile+" readable.", "%v", err), false
	}
	n, lines := subIDRanges(string(data), o.User, os.Getuid())
	if n == 0 {
		return doctor.Pass(checkUserNS, "%s gives %s no subordinate ids: a rootless user namespace maps a single id; %s", o.SubUIDFile, o.User, singleMappingNote), true
	}
	return doctor.Pass(checkUserNS, "%s gives %s %d subordinate ids (%s): a rootless user namespace maps them, remainroot is not needed (it still works)", o.SubUIDFile, o.User, n, strings.Join(lines, ", ")), false
}

var podmanVersionRE = regexp.MustCompile(`version (\d+\.\d+\.\d+\S*)`)

func podmanCheck(o DoctorOptions, conf config.ContainersConf, confErr error) doctor.Check {
	if o.Podman == "" {
		return doctor.Warning(checkPodman, "Install podman (apt-get install podman) to run containers; remainroot run and attach work without it.", "podman not found in PATH")
	}
	out, err := runOutput(30*time.Second, o.Podman, "--version")
	if err != nil {
		return doctor.Failure(checkPodman, "Reinstall podman.", "%v", err)
	}
	v := strings.TrimSpace(out)
	if m := podmanVersionRE.FindStringSubmatch(out); m != nil {
		v = m[1]
	}
	if confErr != nil {
		return doctor.Failure(checkPodman, "Fix the file: podman refuses to start with it.", "podman %s (%s); containers.conf: %v", v, o.Podman, confErr)
	}
	files := "no containers.conf"
	if len(conf.Files) > 0 {
		files = "containers.conf: " + strings.Join(conf.Files, ", ")
	}
	rt := "its default runtime"
	if conf.Runtime != "" {
		rt = "runtime " + conf.Runtime
	}
	return doctor.Pass(checkPodman, "podman %s (%s), %s, %s", v, o.Podman, rt, files)
}

// hooksDirCheck finds remainroot.json in podman's hooks directories and
// reads every document there as podman does: a malformed one makes podman
// refuse to run any container; one whose binary is missing is skipped.
func hooksDirCheck(o DoctorOptions, conf config.ContainersConf, confErr error) doctor.Check {
	dirs, from := conf.HooksDirs, "hooks_dir in "+conf.HooksDirsFrom
	if conf.HooksDirsFrom == "" {
		from = "podman's default hooks_dir"
	}
	if len(o.HooksDirs) > 0 {
		dirs, from = o.HooksDirs, "--hooks-dir"
	} else if confErr != nil {
		return doctor.Failure(checkHooksDir, "Fix containers.conf.", "%v", confErr)
	}
	install := fmt.Sprintf("Install it with `make install` or the .deb, or write it with `remainroot hooks-json --path %s > DIR/%s` into one of them (or add a directory to hooks_dir in containers.conf).", o.Self, HooksFileName)
	if len(dirs) == 0 {
		return doctor.Failure(checkHooksDir, install, "%s is empty: podman runs no hooks", from)
	}
	r := readHooksDirs(dirs)
	if r.skipped[HooksFileName] != nil {
		return doctor.Failure(checkHooksDir, install, "%v: podman skips the hook, so annotated containers run without remainroot", r.skipped[HooksFileName])
	}
	found, foundPath, problems, missing := r.hooks[HooksFileName], r.paths[HooksFileName], r.problems, r.missing
	if len(problems) > 0 {
		return doctor.Failure(checkHooksDir, "Fix or remove the file: podman refuses to run any container while a hooks directory holds an invalid document.", "%s", strings.Join(problems, "; "))
	}
	if found == nil {
		absent := ""
		if len(missing) > 0 {
			absent = "; " + strings.Join(missing, ", ") + " does not exist"
		}
		return doctor.Failure(checkHooksDir, install, "no %s in %s (%s%s): annotated containers run without remainroot", HooksFileName, strings.Join(dirs, ", "), from, absent)
	}
	if !slices.Equal(found.Hook.Args, []string{"remainroot", "hook"}) || !slices.Contains(found.Stages, Stage) {
		return doctor.Failure(checkHooksDir, install, "%s does not run `remainroot hook` at %s (args %q, stages %q)", foundPath, Stage, found.Hook.Args, found.Stages)
	}
	ok, err := found.When.Match(&rspec.Spec{Process: &rspec.Process{Args: []string{"sh"}}}, map[string]string{config.AnnotationMode: "creds"}, false)
	if err != nil || !ok {
		return doctor.Failure(checkHooksDir, install, "%s does not match the annotation %s=creds", foundPath, config.AnnotationMode)
	}
	msg := fmt.Sprintf("%s (%s) runs %s; podman validates it", foundPath, from, found.Hook.Path)
	if same, _ := sameFile(found.Hook.Path, o.Self); !same && o.Self != "" {
		msg += fmt.Sprintf(" (doctor is %s)", o.Self)
	}
	return doctor.Pass(checkHooksDir, "%s", msg)
}

// hooksDirsRead is what podman finds in its hooks directories.
type hooksDirsRead struct {
	hooks    map[string]*current.Hook // by file name; a later directory's replaces an earlier one's
	paths    map[string]string
	skipped  map[string]error // valid documents podman skips: their binary does not exist
	problems []string         // invalid documents: podman refuses to run any container
	missing  []string         // directories that do not exist
}

// readHooksDirs reads every document of dirs as podman does
// (go.podman.io/common/pkg/hooks with podman's extension stages).
func readHooksDirs(dirs []string) hooksDirsRead {
	r := hooksDirsRead{hooks: map[string]*current.Hook{}, paths: map[string]string{}, skipped: map[string]error{}}
	for _, dir := range dirs {
		ents, err := os.ReadDir(dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				r.missing = append(r.missing, dir)
			} else {
				r.problems = append(r.problems, err.Error())
			}
			continue
		}
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), ".json") {
				continue
			}
			path := filepath.Join(dir, e.Name())
			h, err := hooks.Read(path, podmanExtensionStages)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				r.skipped[e.Name()] = fmt.Errorf("%s: %w", path, err)
				delete(r.hooks, e.Name())
			case err != nil:
				r.problems = append(r.problems, err.Error())
			default:
				r.hooks[e.Name()], r.paths[e.Name()] = h, path
				delete(r.skipped, e.Name())
			}
		}
	}
	return r
}

// precreateCheck finds the precreate hook (podman exec, --user), which
// `make install` puts in a directory of its own that a containers.conf
// drop-in adds to hooks_dir.
func precreateCheck(o DoctorOptions, conf config.ContainersConf, confErr error) doctor.Check {
	dirs := conf.HooksDirs
	if len(o.HooksDirs) > 0 {
		dirs = o.HooksDirs
	} else if confErr != nil {
		return doctor.Failure(checkPrecreate, "Fix containers.conf.", "%v", confErr)
	}
	remedy := "Install it with `make install` or the .deb (a containers.conf.d drop-in adds its directory to hooks_dir), or list that directory in your own hooks_dir."
	r := readHooksDirs(dirs)
	if err := r.skipped[PrecreateFileName]; err != nil {
		return doctor.Failure(checkPrecreate, remedy, "%v: podman skips the hook", err)
	}
	h := r.hooks[PrecreateFileName]
	if h == nil {
		return doctor.Warning(checkPrecreate, remedy, "no %s in %s: processes of podman exec and containers run with --user are not traced", PrecreateFileName, strings.Join(dirs, ", "))
	}
	if !slices.Contains(h.Stages, "precreate") {
		return doctor.Failure(checkPrecreate, remedy, "%s has stages %q, not precreate", r.paths[PrecreateFileName], h.Stages)
	}
	return doctor.Pass(checkPrecreate, "%s runs %s (podman exec, --user)", r.paths[PrecreateFileName], h.Hook.Path)
}

func sameFile(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(sa, sb), nil
}

// ignoreChownRemedy is the README's advice for pulls under a single
// mapping, for the storage.conf in use (or the user's, when there is none).
func ignoreChownRemedy(o DoctorOptions, s config.StorageConf) string {
	file := s.File
	if file == "" {
		file = "~/.config/containers/storage.conf"
	}
	section := "[storage.options.vfs] (or [storage.options.overlay])"
	switch s.Driver {
	case "vfs", "overlay":
		section = "[storage.options." + s.Driver + "]"
	}
	return fmt.Sprintf("Add ignore_chown_errors = \"true\" to %s of %s; the hook cannot help there, it runs only once a container starts.", section, file)
}

func storageCheck(o DoctorOptions, s config.StorageConf, err error, single bool) doctor.Check {
	if err != nil {
		return doctor.Failure(checkStorage, "Fix storage.conf: podman refuses to start with it.", "%v", err)
	}
	file := s.File
	if file == "" {
		file = "no storage.conf"
	}
	driver := s.Driver
	if driver == "" {
		driver = "unset (podman picks overlay where it can, else vfs)"
	}
	if s.IgnoreChownErr != nil {
		return doctor.Failure(checkStorage, "Write ignore_chown_errors = \"true\".", "%s: %v", file, s.IgnoreChownErr)
	}
	head := fmt.Sprintf("%s: driver %s, store %s", file, driver, s.GraphRoot)
	switch {
	case s.IgnoreChownErrors:
		return doctor.Pass(checkStorage, "%s, %s = %q: images unpack under a single mapping", head, s.IgnoreChownFrom, s.IgnoreChownRaw)
	case !single:
		return doctor.Pass(checkStorage, "%s; ignore_chown_errors is not needed with more than one id mapped", head)
	case s.IgnoreChownFrom != "":
		return doctor.Failure(checkStorage, ignoreChownRemedy(o, s), "%s, %s = %q: under a single mapping pulling or importing an image fails at its first file owned by another id", head, s.IgnoreChownFrom, s.IgnoreChownRaw)
	default:
		return doctor.Failure(checkStorage, ignoreChownRemedy(o, s), "%s, ignore_chown_errors not set: under a single mapping pulling or importing an image fails at its first file owned by another id", head)
	}
}

func networkCheck(conf config.ContainersConf) doctor.Check {
	helper := conf.RootlessNetCmd
	var found []string
	for _, h := range []string{"pasta", "slirp4netns"} {
		if _, err := exec.LookPath(h); err == nil {
			found = append(found, h)
		}
	}
	helpers := "no pasta or slirp4netns in PATH"
	if len(found) > 0 {
		helpers = strings.Join(found, " and ") + " found"
	}
	if helper != "" {
		helpers += ", default_rootless_network_cmd " + helper
	}
	f, err := os.OpenFile("/dev/net/tun", os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return doctor.Warning(checkNetwork, "Run rootless containers with --network=host or --network=none.",
			"/dev/net/tun: %v: the default rootless network (slirp4netns or pasta) fails; %s", errors.Unwrap(err), helpers)
	}
	f.Close()
	if len(found) == 0 {
		return doctor.Warning(checkNetwork, "Install slirp4netns or passt, or run with --network=host or --network=none.", "/dev/net/tun is accessible but %s", helpers)
	}
	return doctor.Pass(checkNetwork, "/dev/net/tun is accessible, %s", helpers)
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

func buildHooksChecks(o DoctorOptions) []doctor.Check {
	dirs := BuildHooksDirs(o.Self)
	modes := []string{"creds", "full"}
	if o.BuildHooksDir != "" {
		dirs, modes = map[string]string{"": o.BuildHooksDir}, []string{""}
	}
	var out []doctor.Check
	for _, mode := range modes {
		name := checkBuildHooks
		if mode != "" {
			name += " (mode " + mode + ")"
		}
		out = append(out, buildHooksCheck(name, dirs[mode]))
	}
	return out
}

// buildHooksCheck reads a build hooks directory as buildah does (no
// extension stages).
func buildHooksCheck(name, dir string) doctor.Check {
	path := filepath.Join(dir, BuildFileName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return doctor.Warning(name, "Install it with `make install` or the .deb to run `podman build` RUN steps under remainroot.", "no %s", path)
	}
	h, err := hooks.Read(path, nil)
	if err != nil {
		return doctor.Failure(name, "Reinstall remainroot (`make install` or the .deb): podman build fails with an invalid hooks directory.", "%s: %v", path, err)
	}
	return doctor.Pass(name, "%s runs %s: use `podman build --hooks-dir %s ...` (containers.conf's hooks_dir does not apply to builds)", path, strings.Join(h.Hook.Args, " "), dir)
}

// firstLine returns s's first line.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}
