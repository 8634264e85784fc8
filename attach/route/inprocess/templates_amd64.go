package inprocess

import (
	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/shim"
)

// The model's offsets of the fields the handler reads and writes, in
// struct stat and struct statx.
var (
	st  = shim.StatLayout(false)
	stx = shim.StatLayout(true)
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
			InoOff: st.Ino, ModeOff: st.Mode, UIDOff: st.UID, GIDOff: st.GID},
		{Nr: unix.SYS_LSTAT, Kind: kindStat, IfArg: -1, Dfd: argNone, Path: 0, Flags: argNone, Buf: 1,
			FixedFlags: unix.AT_SYMLINK_NOFOLLOW, InoOff: st.Ino, ModeOff: st.Mode, UIDOff: st.UID, GIDOff: st.GID},
		{Nr: unix.SYS_FSTAT, Kind: kindStat, IfArg: -1, Dfd: 0, Path: argNone, Flags: argNone, Buf: 1,
			FixedFlags: unix.AT_EMPTY_PATH, InoOff: st.Ino, ModeOff: st.Mode, UIDOff: st.UID, GIDOff: st.GID},
		{Nr: unix.SYS_NEWFSTATAT, Kind: kindStat, IfArg: -1, Dfd: 0, Path: 1, Flags: 3, Buf: 2,
			InoOff: st.Ino, ModeOff: st.Mode, UIDOff: st.UID, GIDOff: st.GID},
		{Nr: unix.SYS_STATX, Kind: kindStat, IfArg: -1, Dfd: 0, Path: 1, Flags: 2, Buf: 4,
			InoOff: stx.Ino, ModeOff: stx.Mode, UIDOff: stx.UID, GIDOff: stx.GID},

		{Nr: unix.SYS_RT_SIGACTION, Kind: kindSigaction, IfArg: -1},
		{Nr: unix.SYS_RT_SIGPROCMASK, Kind: kindSigprocmask, IfArg: 1},
		{Nr: unix.SYS_RT_SIGSUSPEND, Kind: kindMaskArg, Buf: 0, IfArg: -1},
		{Nr: unix.SYS_PPOLL, Kind: kindMaskArg, Buf: 3, IfArg: 3},
		{Nr: unix.SYS_EPOLL_PWAIT, Kind: kindMaskArg, Buf: 4, IfArg: 4},
		{Nr: unix.SYS_EPOLL_PWAIT2, Kind: kindMaskArg, Buf: 4, IfArg: 4},
		{Nr: unix.SYS_PSELECT6, Kind: kindPselect, Buf: 5, IfArg: 5},
	}
}
