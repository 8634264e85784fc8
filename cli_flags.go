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
	fs.StringVar(&c.mode, "mode", "creds", "emulation mode: creds (credentials) or full (also file ownership)")
	fs.StringVar(&c.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	fs.StringVar(&c.logFile, "log-file", "", "write logs to this file instead of stderr")
}

// full reports whether the mode is full; setup has checked it.
func (c *commonFlags) full() bool {
	m, err := config.ParseMode(c.mode)
	return err == nil && m == config.ModeFull
}

// setup checks the mode and opens the logger.
func (c *commonFlags) setup() (*slog.Logger, io.Closer, error) {
	if _, err := config.ParseMode(c.mode); err != nil {
		return nil, nil, err
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
