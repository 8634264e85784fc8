package shim

import "golang.org/x/sys/unix"

// Offsets in x86-64's struct stat (asm/stat.h) and in struct statx.
const (
	statSize   = 144
	statDev    = 0
	statIno    = 8
	statMode   = 24
	statUID    = 28
	statGID    = 32
	statxUID   = 20
	statxGID   = 24
	statxMode  = 28
	statxIno   = 32
	statxDevMj = 136
	statxDevMn = 140
	statxSize  = 256
)

// newfstatatNr is the number of newfstatat.
const newfstatatNr = unix.SYS_NEWFSTATAT

// Offsets of the fields a device node record rewrites (full_node.go).
const (
	statRdev     = 40
	statSizeOff  = 48
	statxSizeOff = 40
	statxRdevMj  = 128
	statxRdevMn  = 132
)
