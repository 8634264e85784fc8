package hook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/remainroot/remainroot/attach"
	"github.com/remainroot/remainroot/attach/seccomp"
	"github.com/remainroot/remainroot/config"
)

// PrecreateArg is the hook argument that selects the precreate stage:
// podman runs precreate hooks itself, with the proposed config.json on
// stdin, and runs the container with the config they print.
const PrecreateArg = "precreate"

// RunPrecreate is the precreate hook: it starts the container's
// supervisor, listening on its socket, and prints the config rewritten so
// that the runtime sends it every process's seccomp listener (see
// rewriteConfig). Any failure is one line on stderr and a non-zero exit:
// podman then does not create the container.
func RunPrecreate(stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, err := precreate(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "remainroot precreate hook: %v\n", err)
		return 1
	}
	if _, err := stdout.Write(cfg); err != nil {
		fmt.Fprintf(stderr, "remainroot precreate hook: write the config: %v\n", err)
		return 1
	}
	return 0
}

func precreate(stdin io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(stdin, MaxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("read the container config: %w", err)
	}
	starter := podmanStarter(data)
	sup, err := Supervise(data, SupervisorOptions{InitTimeout: InitTimeout, ReadyTimeout: ReadyTimeout, Starter: starter,
		EarlyImageOwners: starter > 0})
	if err != nil {
		return nil, err
	}
	// The hook exits at once: its detached supervisor goes to init.
	sup.Process.Release()
	return sup.Config, nil
}

// podmanStarter returns the hook's parent when podman runs the hook (its
// config carries podman's annotation io.container.manager=libpod): podman
// runs precreate hooks itself and then has conmon run the runtime's
// create, so a podman that exits before the runtime connects means the
// container will not start. Anyone else (a user's script that rewrites a
// bundle's config for a bare runtime, then exits) is no starter: 0.
func podmanStarter(config []byte) int {
	var head struct {
		Annotations map[string]string `json:"annotations"`
	}
	if json.Unmarshal(config, &head) != nil || head.Annotations["io.container.manager"] != "libpod" {
		return 0
	}
	return os.Getppid()
}

// SupervisorOptions bound a supervisor's waits.
type SupervisorOptions struct {
	// InitTimeout bounds the wait for the runtime's connection for the
	// container's init; 0 waits until the supervisor gets SIGTERM (the
	// NRI plugin sends it when the container stops or is removed).
	InitTimeout time.Duration
	// ReadyTimeout bounds the wait for the supervisor to listen.
	ReadyTimeout time.Duration
	// Starter is the process that goes on to create the container
	// (podman, the precreate hook's parent), or 0: if it exits before the
	// runtime connects for the init (killed, or the runtime or conmon
	// died before the connection), the container will not start and the
	// supervisor exits at once rather than after InitTimeout.
	Starter int
	// EarlyImageOwners: in mode full, the supervisor starts reading the
	// image owners at once, from the config's root (absolute, mounted
	// when the hook runs: podman mounts the container's storage before
	// its precreate hooks), rather than when the runtime connects.
	EarlyImageOwners bool
}

// Supervised is a container config rewritten for a supervisor that
// listens on Socket.
type Supervised struct {
	Config []byte
	Socket string
	// Process is the started supervisor, a child of the caller: the
	// caller waits for it or releases it.
	Process *os.Process
}

// Supervise starts the supervisor of the container whose config.json is
// data and returns the config rewritten for it (see rewriteConfig): the
// code of `remainroot hook precreate`, for callers that are not podman.
func Supervise(data []byte, opts SupervisorOptions) (Supervised, error) {
	dir, err := supervisorDir()
	if err != nil {
		return Supervised{}, err
	}
	socket := filepath.Join(dir, "sup-"+randomName()+".sock")
	r, err := RewriteForSupervisor(data, socket)
	if err != nil {
		return Supervised{}, err
	}
	rootfs := ""
	if opts.EarlyImageOwners && r.Settings.Mode == config.ModeFull {
		rootfs = configRoot(data)
	}
	proc, err := startSupervisor(socket, r.Settings, r.User, rootfs, opts)
	if err != nil {
		return Supervised{}, err
	}
	return Supervised{Config: r.Config, Socket: socket, Process: proc}, nil
}

// SupervisorConfig is a container config rewritten for a supervisor, with
// what the supervisor is started with.
type SupervisorConfig struct {
	Config   []byte
	Settings config.HookSettings
	// User is the process.user the runtime cannot switch to (see
	// rewritten.User).
	User *attach.Identity
}

// RewriteForSupervisor reads the container's settings from the config's
// annotations and rewrites the config for a supervisor listening on
// socket (rewriteConfig); it starts nothing.
func RewriteForSupervisor(data []byte, socket string) (SupervisorConfig, error) {
	var head struct {
		Annotations map[string]string `json:"annotations"`
		Linux       *specs.Linux      `json:"linux"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return SupervisorConfig{}, fmt.Errorf("container config on stdin: invalid JSON: %w", err)
	}
	settings, err := config.FromAnnotations(head.Annotations)
	if err != nil {
		return SupervisorConfig{}, err
	}
	out, err := rewriteConfig(data, socket, notifiedCalls(settings.Mode), namespaceMaps(head.Linux))
	if err != nil {
		return SupervisorConfig{}, err
	}
	return SupervisorConfig{Config: out.Config, Settings: settings, User: out.User}, nil
}

// notifiedCalls are the calls the runtime's filter sends to the supervisor
// in mode m: in mode creds the supervisor's traces are lazy (processes are
// attached only while they need it), so every emulated call is notified;
// mode full traces every process and notifies the value-answered calls.
func notifiedCalls(m config.Mode) []string {
	if m == config.ModeFull {
		return seccomp.RuntimeNotifiedCalls()
	}
	return seccomp.LazyRuntimeNotifiedCalls()
}

// startSupervisor starts the detached supervisor and waits until it
// listens on socket.
func startSupervisor(socket string, s config.HookSettings, user *attach.Identity, rootfs string, opts SupervisorOptions) (*os.Process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	args := []string{"remainroot", SupervisorRole, "--socket", socket, "--mode", s.Mode.String(),
		"--log-level", strings.ToLower(s.LogLevel.String()), "--log-dir", s.LogDir,
		"--init-timeout", opts.InitTimeout.String()}
	if opts.Starter > 0 {
		args = append(args, "--starter", strconv.Itoa(opts.Starter))
	}
	if user != nil {
		args = append(args, "--user", formatIdentity(*user))
	}
	if rootfs != "" {
		args = append(args, "--rootfs", rootfs)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("pipe: %w", err)
	}
	defer r.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer null.Close()
	// Detached like the tracer (tracer.go): podman reads the hook's
	// stdout to its end.
	proc, err := os.StartProcess(self, args, &os.ProcAttr{
		Files: []*os.File{null, null, null, w},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	w.Close()
	if err != nil {
		return nil, fmt.Errorf("start the supervisor: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.ReadyTimeout)
	defer cancel()
	got := make(chan error, 1)
	go func() {
		m, err := readMessage(r)
		if err == nil && !m.Ready {
			err = errors.New(m.Error)
		}
		got <- err
	}()
	select {
	case <-ctx.Done():
		proc.Kill()
		proc.Wait()
		return nil, fmt.Errorf("the supervisor did not listen on %s within %s", socket, opts.ReadyTimeout)
	case err := <-got:
		if err != nil {
			proc.Kill()
			proc.Wait()
			return nil, err
		}
		return proc, nil
	}
}

// supervisorDir returns the directory for supervisor sockets: one only
// the hook's user can enter, under /run when it can write there (root),
// else under the temporary directory (rootless podman runs hooks as uid 0
// of its namespace, with an empty environment).
func supervisorDir() (string, error) {
	var tried []string
	for _, d := range []string{"/run/remainroot", filepath.Join(os.TempDir(), "remainroot-"+hostUID())} {
		err := privateDir(d)
		if err == nil {
			sweepStaleSockets(d)
			return d, nil
		}
		tried = append(tried, err.Error())
	}
	return "", fmt.Errorf("no directory for the supervisor's socket: %s", strings.Join(tried, "; "))
}

// privateDir makes sure d is a real directory owned by this user that no
// one else can write (created 0700 if missing), as log directories are.
func privateDir(d string) error {
	if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return checkLogDir(d, os.Geteuid())
}

func randomName() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// namespaceMaps says which ids the container's processes can switch to:
// those of the config's own user namespace mappings when it creates one,
// else those of the namespace the hook runs in (rootless podman's).
func namespaceMaps(l *specs.Linux) func(uid, gid uint32) bool {
	var uids, gids []specs.LinuxIDMapping
	own := false
	if l != nil {
		for _, ns := range l.Namespaces {
			if ns.Type == specs.UserNamespace && ns.Path == "" {
				own = true
			}
		}
		if own {
			uids, gids = l.UIDMappings, l.GIDMappings
		}
	}
	if !own {
		uids = readMappings("/proc/self/uid_map")
		gids = readMappings("/proc/self/gid_map")
	}
	in := func(m []specs.LinuxIDMapping, id uint32) bool {
		for _, e := range m {
			if uint64(id) >= uint64(e.ContainerID) && uint64(id) < uint64(e.ContainerID)+uint64(e.Size) {
				return true
			}
		}
		return false
	}
	return func(uid, gid uint32) bool { return in(uids, uid) && in(gids, gid) }
}

func readMappings(path string) []specs.LinuxIDMapping {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return ParseIDMappings(string(data))
}

// ParseIDMappings parses a /proc/PID/uid_map or gid_map.
func ParseIDMappings(data string) []specs.LinuxIDMapping {
	var out []specs.LinuxIDMapping
	for _, line := range strings.Split(data, "\n") {
		var m specs.LinuxIDMapping
		if _, err := fmt.Sscan(line, &m.ContainerID, &m.HostID, &m.Size); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// formatIdentity and parseIdentity carry a user to the supervisor as
// UID:GID[:G1,G2,...].
func formatIdentity(id attach.Identity) string {
	s := fmt.Sprintf("%d:%d", id.UID, id.GID)
	if len(id.Groups) > 0 {
		g := make([]string, len(id.Groups))
		for i, v := range id.Groups {
			g[i] = strconv.FormatUint(uint64(v), 10)
		}
		s += ":" + strings.Join(g, ",")
	}
	return s
}

func parseIdentity(s string) (attach.Identity, error) {
	var id attach.Identity
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return id, fmt.Errorf("user %q: want UID:GID[:GROUPS]", s)
	}
	u, err1 := strconv.ParseUint(parts[0], 10, 32)
	g, err2 := strconv.ParseUint(parts[1], 10, 32)
	if err1 != nil || err2 != nil {
		return id, fmt.Errorf("user %q: want numeric ids", s)
	}
	id.UID, id.GID = uint32(u), uint32(g)
	if len(parts) == 3 && parts[2] != "" {
		for _, f := range strings.Split(parts[2], ",") {
			v, err := strconv.ParseUint(f, 10, 32)
			if err != nil {
				return id, fmt.Errorf("user %q: group %q: %w", s, f, err)
			}
			id.Groups = append(id.Groups, uint32(v))
		}
	}
	return id, nil
}
