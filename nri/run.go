package nri

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
)

// Default identity of a plugin not started by the runtime (which passes
// NRI_PLUGIN_NAME and NRI_PLUGIN_IDX).
const (
	DefaultName = "remainroot"
	DefaultIdx  = "50"
)

// RunOptions say how the plugin reaches the runtime.
type RunOptions struct {
	// Name and Idx register the plugin (defaults: the runtime's
	// environment, else DefaultName and DefaultIdx).
	Name, Idx string
	// Socket is the runtime's NRI socket (default: NRI's default,
	// /var/run/nri/nri.sock); unused when the runtime started the plugin
	// and handed it a connection.
	Socket string
}

// Run serves the runtime's events until the runtime closes the connection
// or ctx ends.
func Run(ctx context.Context, p *Plugin, o RunOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The runtime closing the connection (it stops) ends the plugin.
	opts := []stub.Option{stub.WithOnClose(cancel)}
	name, idx := o.Name, o.Idx
	if name == "" && os.Getenv(api.PluginNameEnvVar) == "" {
		name = DefaultName
	}
	if idx == "" && os.Getenv(api.PluginIdxEnvVar) == "" {
		idx = DefaultIdx
	}
	if name != "" {
		opts = append(opts, stub.WithPluginName(name))
	}
	if idx != "" {
		opts = append(opts, stub.WithPluginIdx(idx))
	}
	if o.Socket != "" {
		opts = append(opts, stub.WithSocketPath(o.Socket))
	}
	s, err := stub.New(p, opts...)
	if err != nil {
		return fmt.Errorf("create the NRI plugin: %w", err)
	}
	err = s.Run(ctx)
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("NRI plugin: %w", err)
	}
	p.log.Info("the runtime closed the connection; the plugin exits (supervisors go on with their containers)")
	return nil
}
