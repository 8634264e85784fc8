package inprocess

// No handler on arm64 yet: mode full keeps the ptrace route there.

// Supported: the handler is built for this architecture.
const Supported = false

// Code is empty: there is no handler on arm64, and what uses one checks
// Supported.
var Code []byte

// The entry points (none on arm64).
const (
	Entry    = 0
	Restorer = 0
)

// templates: none without a handler.
func templates() []template { return nil }
