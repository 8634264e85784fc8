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
