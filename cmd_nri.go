package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/containerd/nri/pkg/api"

	"github.com/remainroot/remainroot/nri"
)

// nriCommandName is the command that runs the NRI plugin.
const nriCommandName = "nri"

// wrappedRuntime is the OCI runtime this process stands in for when run
// as a wrapper link (remainroot-runc): see nri.WrapRuntime.
var wrappedRuntime string

// A runtime that starts the plugin from its plugin_path (containerd's
// /opt/nri/plugins/IDX-NAME, a link to remainroot) passes no arguments,
// only a connection in $NRI_PLUGIN_SOCKET: that is the nri command. A
// link remainroot-runc is called with runc's arguments: that is the nri
// command's runtime wrapper.
func init() {
	if len(os.Args) == 1 && os.Getenv(api.PluginSocketEnvVar) != "" {
		os.Args = append(os.Args, nriCommandName)
	}
	if wrappedRuntime = nri.WrappedRuntime(os.Args[0]); wrappedRuntime != "" {
		os.Args = append([]string{os.Args[0], nriCommandName}, os.Args[1:]...)
	}
}

// nriCommand runs remainroot's NRI plugin (package nri) until the runtime
// goes.
func nriCommand(args []string) int {
	if wrappedRuntime != "" {
		err := nri.WrapRuntime(wrappedRuntime, args)
		fmt.Fprintf(os.Stderr, "remainroot (%s wrapper): %v\n", wrappedRuntime, err)
		return 1
	}
	fs := flag.NewFlagSet(nriCommandName, flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file (default $"+nri.EnvConfig+", else "+nri.DefaultConfigFile+" if it exists)")
	name := fs.String("name", "", "plugin name (default $NRI_PLUGIN_NAME, else "+nri.DefaultName+")")
	idx := fs.String("idx", "", "plugin index (default $NRI_PLUGIN_IDX, else "+nri.DefaultIdx+")")
	socket := fs.String("socket", "", "the runtime's NRI socket (default NRI's, /var/run/nri/nri.sock)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := nri.LoadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot nri: %v\n", err)
		return 2
	}
	p, err := nri.NewPlugin(cfg, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "remainroot nri: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := nri.Run(ctx, p, nri.RunOptions{Name: *name, Idx: *idx, Socket: *socket}); err != nil {
		fmt.Fprintf(os.Stderr, "remainroot nri: %v\n", err)
		return 1
	}
	return 0
}
