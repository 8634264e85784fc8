package inprocess

import "golang.org/x/sys/unix"

// Offsets in x86-64's struct stat and in struct statx of the fields the
// handler reads (shim's full_layout_amd64.go has the same).
const (
	statIno   = 8
	statMode  = 24
	statUID   = 28
	statGID   = 32
	statxUID  = 20
	statxGID  = 24
	statxMode = 28
	statxIno  = 32
)

// templates are the x86-64 calls the layer traps, as the handler finds
// their operands: stat(path, buf), lstat(path, buf), fstat(fd, buf),
// newfstatat(dfd, path, buf, flags), statx(dfd, path, flags, mask, buf);
// and the calls that set a signal mask or SIGSYS's action, which must
// never block SIGSYS (a blocked SIGSYS makes the kernel kill the process
// at the layer's trap), with the argument that holds the mask.
func templates() []template {
	return []template{
		{Nr: unix.SYS_STAT, Kind: kindStat, IfArg: -1, Dfd: argNone, Path: 0, Flags: argNone, Buf: 1,
			InoOff: statIno, ModeOff: statMode, UIDOff: statUID, GIDOff: statGID},
		{Nr: unix.SYS_LSTAT, Kind: kindStat, IfArg: -1, Dfd: argNone, Path: 0, Flags: argNone, Buf: 1,
			FixedFlags: unix.AT_SYMLINK_NOFOLLOW, InoOff: statIno, ModeOff: statMode, UIDOff: statUID, GIDOff: statGID},
		{Nr: unix.SYS_FSTAT, Kind: kindStat, IfArg: -1, Dfd: 0, Path: argNone, Flags: argNone, Buf: 1,
			FixedFlags: unix.AT_EMPTY_PATH, InoOff: statIno, ModeOff: statMode, UIDOff: statUID, GIDOff: statGID},
		{Nr: unix.SYS_NEWFSTATAT, Kind: kindStat, IfArg: -1, Dfd: 0, Path: 1, Flags: 3, Buf: 2,
			InoOff: statIno, ModeOff: statMode, UIDOff: statUID, GIDOff: statGID},
		{Nr: unix.SYS_STATX, Kind: kindStat, IfArg: -1, Dfd: 0, Path: 1, Flags: 2, Buf: 4,
			InoOff: statxIno, ModeOff: statxMode, UIDOff: statxUID, GIDOff: statxGID},

		{Nr: unix.SYS_RT_SIGACTION, Kind: kindSigaction, IfArg: -1},
		{Nr: unix.SYS_RT_SIGPROCMASK, Kind: kindSigprocmask, IfArg: 1},
		{Nr: unix.SYS_RT_SIGSUSPEND, Kind: kindMaskArg, Buf: 0, IfArg: -1},
		{Nr: unix.SYS_PPOLL, Kind: kindMaskArg, Buf: 3, IfArg: 3},
		{Nr: unix.SYS_EPOLL_PWAIT, Kind: kindMaskArg, Buf: 4, IfArg: 4},
		{Nr: unix.SYS_EPOLL_PWAIT2, Kind: kindMaskArg, Buf: 4, IfArg: 4},
		{Nr: unix.SYS_PSELECT6, Kind: kindPselect, Buf: 5, IfArg: 5},
	}
}
