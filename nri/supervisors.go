package nri

import (
	"log/slog"
	"os"
	"sync"
	"syscall"
)

// supervisors are the running supervisors of this plugin, by container
// id. Each is a child of the plugin, reaped by a goroutine of its own, so
// a pid signalled here is never a reused one.
type supervisors struct {
	log *slog.Logger
	mu  sync.Mutex
	// running maps a container id to its supervisor while it runs.
	running map[string]*os.Process
}

func newSupervisors(log *slog.Logger) *supervisors {
	return &supervisors{log: log, running: map[string]*os.Process{}}
}

// add records container id's supervisor and reaps it when it exits.
func (s *supervisors) add(id string, p *os.Process) {
	if p == nil {
		return
	}
	s.mu.Lock()
	s.running[id] = p
	s.mu.Unlock()
	go func() {
		st, err := p.Wait()
		s.mu.Lock()
		if s.running[id] == p {
			delete(s.running, id)
		}
		s.mu.Unlock()
		s.log.Info("supervisor exited", "container", id, "pid", p.Pid, "status", st, "err", err)
	}()
}

// end asks container id's supervisor to finish: it takes no further
// process and exits once those it traces have gone (at once if the
// runtime never connected).
func (s *supervisors) end(id string) {
	s.mu.Lock()
	p := s.running[id]
	s.mu.Unlock()
	if p == nil {
		return
	}
	if err := p.Signal(syscall.SIGTERM); err == nil {
		s.log.Info("supervisor asked to end", "container", id, "pid", p.Pid)
	}
}

// endAll ends every supervisor (the plugin is shutting down with its
// runtime).
func (s *supervisors) endAll() {
	s.mu.Lock()
	ids := make([]string, 0, len(s.running))
	for id := range s.running {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		s.end(id)
	}
}

// stopSupervisor ends a supervisor whose container will not be created.
func stopSupervisor(p *os.Process) {
	if p == nil {
		return
	}
	p.Signal(syscall.SIGTERM)
	p.Wait()
}
