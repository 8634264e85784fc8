package hook

import (
	"net"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Messages as each runtime shapes them (runtime-spec ContainerProcessState):
// runc gives the process's pid for init and for exec; crun 1.8 gives the
// init's pid for init and pid 0 (in the state too) for an exec; youki gives
// both pids and fields of a newer spec.
var agentShapes = map[string]string{
	"runc init": `{"ociVersion":"1.0.2-dev","fds":["seccompFd"],"pid":4242,"metadata":"","state":{"ociVersion":"1.0.2-dev","id":"c1","status":"creating","pid":4242,"bundle":"/b","annotations":{"io.remainroot.mode":"creds"}}}`,
	"runc exec": `{"ociVersion":"1.0.2-dev","fds":["seccompFd"],"pid":4300,"metadata":"","state":{"ociVersion":"1.0.2-dev","id":"c1","status":"running","pid":4242,"bundle":"/b"}}`,
	"crun init": `{"ociVersion":"1.0.0","fds":["seccompFd"],"pid":4242,"metadata":"","state":{"ociVersion":"1.0.0","id":"c1","status":"created","pid":4242,"bundle":"/b","annotations":{}}}`,
	"crun exec": `{"ociVersion":"1.0.0","fds":["seccompFd"],"pid":0,"metadata":"","state":{"ociVersion":"1.0.0","id":"c1","status":"running","pid":0,"bundle":"/b"}}`,
	"youki":     `{"ociVersion":"1.2.0","fds":["seccompFd"],"pid":4242,"metadata":"m","state":{"ociVersion":"1.2.0","id":"c1","status":"creating","pid":4242,"bundle":"/b","annotations":{},"created":"2026-01-01T00:00:00Z"}}`,
}

func TestParseAgentShapes(t *testing.T) {
	for name, msg := range agentShapes {
		st, err := parseAgentMessage([]byte(msg), 1)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if st.State.ID != "c1" {
			t.Errorf("%s: id %q", name, st.State.ID)
		}
	}
}

func TestParseAgentRefuses(t *testing.T) {
	cases := []struct {
		msg  string
		nfds int
		want string
	}{
		{``, 1, "empty"},
		{`{"fds":["seccompFd"]`, 1, "invalid JSON"},
		{`{"fds":[],"pid":1,"state":{"pid":1}}`, 0, `no "seccompFd"`},
		{`{"fds":["seccompFd","other"],"pid":1,"state":{"pid":1}}`, 1, "names 2 descriptors but carries 1"},
		{`{"fds":["seccompFd"],"pid":1,"state":{"pid":1}}`, 0, "carries 0"},
		{`{"fds":["seccompFd"],"pid":-4,"state":{"pid":1}}`, 1, "invalid pid"},
		{`{"fds":["seccompFd"],"pid":1,"state":{"pid":-1}}`, 1, "invalid container init pid"},
		{`{"fds":"seccompFd","pid":1}`, 1, "invalid JSON"},
	}
	for _, c := range cases {
		_, err := parseAgentMessage([]byte(c.msg), c.nfds)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err %v, want %q", c.msg, err, c.want)
		}
	}
}

// sendAgent sends msg with fds over a connected pair and returns the
// receiving end.
func sendAgent(t *testing.T, msg string, fds ...int) *net.UnixConn {
	t.Helper()
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(pair[0], []byte(msg), oob, nil, 0); err != nil {
		t.Fatal(err)
	}
	unix.Close(pair[0])
	f := os.NewFile(uintptr(pair[1]), "agent")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.UnixConn)
}

func TestReadAgentMessagePassesTheListener(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	m, err := readAgentMessage(sendAgent(t, agentShapes["crun exec"], int(w.Fd())))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Listener.Close()
	if m.PeerPid != os.Getpid() {
		t.Errorf("peer pid %d, want %d", m.PeerPid, os.Getpid())
	}
	// The received descriptor is the pipe's write end.
	if _, err := m.Listener.Write([]byte("x")); err != nil {
		t.Fatalf("received descriptor: %v", err)
	}
	buf := make([]byte, 1)
	if _, err := r.Read(buf); err != nil || buf[0] != 'x' {
		t.Fatalf("read %q, %v", buf, err)
	}
}

func TestReadAgentMessageClosesExtraDescriptors(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Two descriptors for one name: refused, and both received copies
	// closed (the pipe's reader then sees EOF once w is closed here).
	_, err = readAgentMessage(sendAgent(t, agentShapes["runc init"], int(w.Fd()), int(w.Fd())))
	if err == nil || !strings.Contains(err.Error(), "carries 2") {
		t.Fatalf("err %v", err)
	}
	w.Close()
	buf := make([]byte, 1)
	if n, _ := r.Read(buf); n != 0 {
		t.Errorf("a received descriptor was left open")
	}
}

func TestReadAgentMessageWithoutListener(t *testing.T) {
	_, err := readAgentMessage(sendAgent(t, agentShapes["runc exec"]))
	if err == nil || !strings.Contains(err.Error(), "carries 0") {
		t.Fatalf("err %v", err)
	}
}
