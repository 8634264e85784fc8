package nri

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/containerd/nri/pkg/api"

	"github.com/remainroot/remainroot/config"
	"github.com/remainroot/remainroot/hook"
)

// runtimeCRIO is the runtime name CRI-O gives NRI plugins: CRI-O reads
// hooks.d, where remainroot's createRuntime hook already is.
const runtimeCRIO = "cri-o"

// Plugin answers NRI's container events.
type Plugin struct {
	cfg   Config
	log   *slog.Logger
	sink  *logSink
	level *slog.LevelVar
	// runtime is the runtime's name, known once it configures the plugin.
	runtime     string
	supervisors *supervisors
	// start starts a supervisor (hook.Supervise but in tests).
	start superviseFunc
	// procRoot is /proc but in tests.
	procRoot string
}

// NewPlugin returns a plugin with configuration cfg that logs to out
// until the configuration names a log file.
func NewPlugin(cfg Config, out io.Writer) (*Plugin, error) {
	p := &Plugin{sink: &logSink{w: out}, level: new(slog.LevelVar), start: hook.Supervise, procRoot: "/proc"}
	p.log = newLogger(p.sink, p.level)
	p.supervisors = newSupervisors(p.log)
	if err := p.apply(cfg); err != nil {
		return nil, err
	}
	return p, nil
}

// apply makes cfg the plugin's configuration.
func (p *Plugin) apply(cfg Config) error {
	if cfg.HookPath == "" {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find own executable for the hook: %w", err)
		}
		cfg.HookPath = self
	}
	if err := p.sink.open(cfg.LogFile); err != nil {
		return err
	}
	if cfg.LogDir != "" {
		// Read by hook.Supervise (config.FromAnnotations) for the
		// supervisors' --log-dir.
		os.Setenv(config.EnvLogDir, cfg.LogDir)
	}
	p.level.Set(cfg.Level())
	p.cfg = cfg
	return nil
}

// Configure takes the runtime's name and the plugin's configuration from
// the runtime's plugin_config_path, if it has one (TOML, over the file's).
func (p *Plugin) Configure(_ context.Context, cfg, runtime, version string) (api.EventMask, error) {
	if cfg != "" {
		merged := p.cfg
		if err := merged.merge(cfg); err != nil {
			return 0, fmt.Errorf("remainroot: the configuration the runtime passed: %w", err)
		}
		if err := p.apply(merged); err != nil {
			return 0, fmt.Errorf("remainroot: the configuration the runtime passed: %w", err)
		}
	}
	p.runtime = runtime
	p.log.Info("configured", "runtime", runtime, "version", version, "hook", p.addsHook(), "exec", p.cfg.Exec)
	return 0, nil // every event the plugin handles
}

// addsHook says whether the plugin adds remainroot's createRuntime hook.
func (p *Plugin) addsHook() bool {
	switch p.cfg.Hook {
	case HookAlways:
		return true
	case HookNever:
		return false
	}
	return p.runtime != runtimeCRIO
}

// CreateContainer adjusts an annotated container; others are untouched.
// An error fails this container's creation only.
func (p *Plugin) CreateContainer(_ context.Context, pod *api.PodSandbox, ctr *api.Container) (*api.ContainerAdjustment, []*api.ContainerUpdate, error) {
	log := p.log.With("pod", pod.GetNamespace()+"/"+pod.GetName(), "container", ctr.GetName(), "id", ctr.GetId())
	adj, err := p.adjust(log, pod, ctr)
	if err != nil {
		log.Error("container refused", "err", err)
		return nil, nil, fmt.Errorf("remainroot: pod %s/%s, container %s: %w", pod.GetNamespace(), pod.GetName(), ctr.GetName(), err)
	}
	return adj, nil, nil
}

func (p *Plugin) adjust(log *slog.Logger, pod *api.PodSandbox, ctr *api.Container) (*api.ContainerAdjustment, error) {
	ann := remainrootAnnotations(pod, ctr)
	if ann == nil {
		return nil, nil
	}
	if _, err := config.FromAnnotations(ann); err != nil {
		return nil, err
	}
	adj := &api.ContainerAdjustment{}
	for k, v := range ann {
		if ctr.GetAnnotations()[k] != v {
			adj.AddAnnotation(k, v)
			log.Info("annotation copied from the pod", "key", k, "value", v)
		}
	}
	maps := p.idMaps(log, ctr)
	if userNamespace(ctr) != nil {
		for _, c := range runnableMounts(ctr, maps, p.cfg.HostSys) {
			adj.AddMount(c.Mount)
			log.Info("mount replaced", "destination", c.Mount.Destination, "type", c.Mount.Type, "options", c.Mount.Options, "why", c.Reason)
		}
	}
	if p.addsHook() {
		h := &api.Hook{Path: p.cfg.HookPath, Args: []string{"remainroot", "hook"}}
		if p.cfg.LogDir != "" {
			h.Env = []string{config.EnvLogDir + "=" + p.cfg.LogDir}
		}
		adj.AddHooks(&api.Hooks{CreateRuntime: []*api.Hook{h}})
		log.Info("createRuntime hook added", "path", p.cfg.HookPath)
	}
	if !p.cfg.Exec {
		return adj, nil
	}
	if !policyKnown(ctr) {
		log.Warn("the runtime reports a seccomp profile but not its policy (NRI < 0.10): exec'd processes are not emulated")
		return adj, nil
	}
	sup, err := supervise(p.start, ctr, withAnnotations(ctr, ann), maps,
		hook.SupervisorOptions{InitTimeout: p.cfg.InitTimeout, ReadyTimeout: p.cfg.ReadyTimeout})
	if err != nil {
		return nil, err
	}
	adj.SetLinuxSeccompPolicy(sup.Seccomp)
	adj.AddAnnotation(hook.AnnotationSupervisor, sup.Socket)
	p.supervisors.add(ctr.GetId(), sup.Process)
	log.Info("seccomp listener set: every process is emulated", "socket", sup.Socket)
	return adj, nil
}

// idMaps reads the mappings of the container's user namespace; nil when it
// has none of its own or they cannot be read.
func (p *Plugin) idMaps(log *slog.Logger, ctr *api.Container) *idMaps {
	ns := userNamespace(ctr)
	if ns == nil || ns.GetPath() == "" {
		return nil
	}
	m, err := readIDMaps(p.procRoot, ns.GetPath())
	if err != nil {
		log.Warn("the pod's id mappings are not known: devpts is left as it is", "err", err)
		return nil
	}
	return &m
}

// StopContainer ends the container's supervisor.
func (p *Plugin) StopContainer(_ context.Context, _ *api.PodSandbox, ctr *api.Container) ([]*api.ContainerUpdate, error) {
	p.supervisors.end(ctr.GetId())
	return nil, nil
}

// RemoveContainer ends the container's supervisor (one created but never
// started waits for its init until then).
func (p *Plugin) RemoveContainer(_ context.Context, _ *api.PodSandbox, ctr *api.Container) error {
	p.supervisors.end(ctr.GetId())
	return nil
}
