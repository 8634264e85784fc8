package hook

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// runcState is what runc 1.1 writes on a createRuntime hook's stdin
// (podman-created container, annotations trimmed).
const runcState = `{"ociVersion":"1.0.2-dev","id":"4c1b6f3e9a0d","status":"creating","pid":12345,"bundle":"/home/u/.local/share/containers/storage/vfs-containers/4c1b6f3e9a0d/userdata","annotations":{"io.container.manager":"libpod","io.podman.annotations.autoremove":"TRUE","io.remainroot.mode":"creds","org.opencontainers.image.stopSignal":"15"}}`

// crunState is what crun 1.8 writes: status "created" and an extra "root".
const crunState = `{
  "ociVersion": "1.0.0",
  "id": "rr-test",
  "pid": 23456,
  "root": "/run/user/1000/crun/rr-test",
  "bundle": "/tmp/bundle",
  "status": "created",
  "annotations": {
    "io.remainroot.mode": "full",
    "io.remainroot.log-level": "debug"
  }
}
`

func TestParseState(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    State
		wantErr string
	}{
		{
			name: "runc",
			in:   runcState,
			want: State{
				OCIVersion: "1.0.2-dev",
				ID:         "4c1b6f3e9a0d",
				Status:     "creating",
				Pid:        12345,
				Bundle:     "/home/u/.local/share/containers/storage/vfs-containers/4c1b6f3e9a0d/userdata",
				Annotations: map[string]string{
					"io.container.manager":                "libpod",
					"io.podman.annotations.autoremove":    "TRUE",
					"io.remainroot.mode":                  "creds",
					"org.opencontainers.image.stopSignal": "15",
				},
			},
		},
		{
			name: "crun",
			in:   crunState,
			want: State{
				OCIVersion: "1.0.0",
				ID:         "rr-test",
				Status:     "created",
				Pid:        23456,
				Bundle:     "/tmp/bundle",
				Annotations: map[string]string{
					"io.remainroot.mode":      "full",
					"io.remainroot.log-level": "debug",
				},
			},
		},
		{
			name: "minimal, odd status, no annotations",
			in:   `{"pid":1,"status":"running","future":{"nested":[1,2]}}`,
			want: State{Status: "running", Pid: 1},
		},
		{name: "empty", in: "", wantErr: "container state on stdin: empty input"},
		{name: "blank", in: " \n\t", wantErr: "empty input"},
		{name: "not json", in: "hello", wantErr: "container state on stdin: invalid JSON: "},
		{name: "truncated", in: `{"pid": 12`, wantErr: "invalid JSON"},
		{name: "array", in: `[1]`, wantErr: "invalid JSON"},
		{name: "pid as string", in: `{"pid":"12"}`, wantErr: "invalid JSON"},
		{name: "pid fractional", in: `{"pid":1.5}`, wantErr: "invalid JSON"},
		{name: "null", in: `null`, wantErr: "container state on stdin: no pid"},
		{name: "no pid (poststop-like)", in: `{"ociVersion":"1.0.2","id":"x","status":"stopped","bundle":"/b"}`, wantErr: "no pid"},
		{name: "zero pid", in: `{"pid":0}`, wantErr: "no pid"},
		{name: "negative pid", in: `{"pid":-4}`, wantErr: "container state on stdin: invalid pid -4"},
		{name: "trailing garbage", in: runcState + "x", wantErr: "invalid JSON"},
		{name: "too large", in: `{"pid":1,"x":"` + strings.Repeat("a", MaxStateSize) + `"}`, wantErr: "larger than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseState(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("got %+v, want an error containing %q", got, tt.wantErr)
				}
				msg := err.Error()
				if !strings.Contains(msg, tt.wantErr) {
					t.Errorf("error %q does not contain %q", msg, tt.wantErr)
				}
				if !strings.HasPrefix(msg, "container state on stdin: ") || strings.Contains(msg, "\n") {
					t.Errorf("error %q is not one line starting with the prefix", msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestParseStateReadError(t *testing.T) {
	_, err := ParseState(failingReader{})
	if !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("error %v does not wrap the read error", err)
	}
	if !strings.HasPrefix(err.Error(), "container state on stdin: read: ") {
		t.Errorf("error %q lacks the prefix", err)
	}
}

// TestParseStateReadsBounded checks ParseState stops reading an endless
// stream instead of exhausting memory.
func TestParseStateReadsBounded(t *testing.T) {
	r := &countingReader{}
	_, err := ParseState(r)
	if err == nil {
		t.Fatal("no error for an endless stream")
	}
	if r.n > MaxStateSize+64*1024 {
		t.Errorf("read %d bytes, want at most about %d", r.n, MaxStateSize)
	}
}

type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	c.n += len(p)
	return len(p), nil
}
