package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/config"
)

// commonFlags are the flags run and attach share.
type commonFlags struct {
	mode     string
	logLevel string
	logFile  string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.mode, "mode", "creds", "emulation mode: creds (full is not implemented yet)")
	fs.StringVar(&c.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	fs.StringVar(&c.logFile, "log-file", "", "write logs to this file instead of stderr")
}

// setup checks the mode and opens the logger.
func (c *commonFlags) setup() (*slog.Logger, io.Closer, error) {
	mode, err := config.ParseMode(c.mode)
	if err != nil {
		return nil, nil, err
	}
	if mode != config.ModeCreds {
		return nil, nil, fmt.Errorf("mode %q is not implemented yet; use creds", c.mode)
	}
	level, err := config.ParseLogLevel(c.logLevel)
	if err != nil {
		return nil, nil, err
	}
	var w io.Writer = os.Stderr
	var closer io.Closer = io.NopCloser(nil)
	if c.logFile != "" {
		f, err := os.OpenFile(c.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("open log file: %w", err)
		}
		w, closer = f, f
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})).With("pid", os.Getpid())
	return log, closer, nil
}
