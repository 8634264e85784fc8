package shim

import "golang.org/x/sys/unix"

// Offsets in arm64's (asm-generic) struct stat and in struct statx.
const (
	statSize   = 128
	statDev    = 0
	statIno    = 8
	statMode   = 16
	statUID    = 24
	statGID    = 28
	statxUID   = 20
	statxGID   = 24
	statxMode  = 28
	statxIno   = 32
	statxDevMj = 136
	statxDevMn = 140
	statxSize  = 256
)

// newfstatatNr is the number of newfstatat (fstatat on arm64).
const newfstatatNr = unix.SYS_FSTATAT

// Offsets of the fields a device node record rewrites (full_node.go).
const (
	statRdev     = 32
	statSizeOff  = 48
	statxSizeOff = 40
	statxRdevMj  = 128
	statxRdevMn  = 132
)
