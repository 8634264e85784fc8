package hook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// MaxAgentMessage bounds the JSON a runtime sends with a seccomp listener.
// Real ones are a few kilobytes; the bulk is the state's annotations.
const MaxAgentMessage = 1 << 20

// agentReadTimeout bounds how long one runtime connection may take.
const agentReadTimeout = 10 * time.Second

// agentMessage is what a runtime sends remainroot's receiver for one
// process (runtime-spec "Seccomp" > listenerPath): the container process
// state, and the listener of the process's seccomp filter.
type agentMessage struct {
	specs.ContainerProcessState
	// Listener is the seccomp notification descriptor, owned by the
	// receiver from now on.
	Listener *os.File
	// PeerPid is the process that connected: the runtime.
	PeerPid int
}

// readAgentMessage reads one runtime's message from conn: one JSON
// document, with the descriptors named in its fds field attached
// (SCM_RIGHTS) to the data, up to EOF. Descriptors other than the
// listener are closed. The peer must run as the receiver's own user.
func readAgentMessage(conn *net.UnixConn) (agentMessage, error) {
	var m agentMessage
	peer, err := checkPeer(conn)
	if err != nil {
		return m, err
	}
	m.PeerPid = peer
	conn.SetReadDeadline(time.Now().Add(agentReadTimeout))
	var data []byte
	var fds []int
	defer func() {
		for _, fd := range fds {
			if m.Listener == nil || fd != int(m.Listener.Fd()) {
				unix.Close(fd)
			}
		}
	}()
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4*8))
	for {
		n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if oobn > 0 {
			got, perr := parseRights(oob[:oobn])
			fds = append(fds, got...)
			if perr != nil {
				return m, perr
			}
		}
		data = append(data, buf[:n]...)
		if len(data) > MaxAgentMessage {
			return m, fmt.Errorf("seccomp agent message larger than %d bytes", MaxAgentMessage)
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return m, fmt.Errorf("seccomp agent message: the runtime sent no end within %s", agentReadTimeout)
			}
			if n == 0 && errors.Is(err, io.EOF) {
				break
			}
			return m, fmt.Errorf("read seccomp agent message: %w", err)
		}
		if n == 0 && oobn == 0 {
			break
		}
		// A runtime sends the whole document in one message: stop reading
		// once it parses (runc and crun keep the connection open until
		// they have checked the send, not until the receiver answers).
		if json.Valid(data) {
			break
		}
	}
	st, err := parseAgentMessage(data, len(fds))
	if err != nil {
		return m, err
	}
	m.ContainerProcessState = st
	i := slices.Index(st.Fds, specs.SeccompFdName)
	m.Listener = os.NewFile(uintptr(fds[i]), "seccomp-listener")
	return m, nil
}

// parseAgentMessage checks one runtime message: JSON, a state with the
// container's id and init pid, the listener among nfds descriptors.
func parseAgentMessage(data []byte, nfds int) (specs.ContainerProcessState, error) {
	var st specs.ContainerProcessState
	if len(data) == 0 {
		return st, errors.New("seccomp agent message: empty")
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("seccomp agent message: invalid JSON: %w", err)
	}
	i := slices.Index(st.Fds, specs.SeccompFdName)
	switch {
	case i < 0:
		return st, fmt.Errorf("seccomp agent message: no %q among fds %q", specs.SeccompFdName, st.Fds)
	case len(st.Fds) != nfds:
		return st, fmt.Errorf("seccomp agent message names %d descriptors but carries %d", len(st.Fds), nfds)
	case st.Pid < 0:
		return st, fmt.Errorf("seccomp agent message: invalid pid %d", st.Pid)
	case st.State.Pid < 0:
		return st, fmt.Errorf("seccomp agent message: invalid container init pid %d", st.State.Pid)
	}
	return st, nil
}

// parseRights returns the descriptors of SCM_RIGHTS control messages.
func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("seccomp agent message: control data: %w", err)
	}
	var fds []int
	for _, msg := range msgs {
		got, err := unix.ParseUnixRights(&msg)
		if err != nil {
			continue
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

// checkPeer refuses a connection from another user: only the runtime that
// podman (or root) runs, as the receiver's own user, may hand it processes.
func checkPeer(conn *net.UnixConn) (pid int, err error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var cerr error
	raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
	if cerr != nil {
		return 0, fmt.Errorf("seccomp agent connection: peer credentials: %w", cerr)
	}
	if int(cred.Uid) != os.Geteuid() {
		return 0, fmt.Errorf("seccomp agent connection from uid %d refused (the receiver runs as %d)", cred.Uid, os.Geteuid())
	}
	return int(cred.Pid), nil
}
