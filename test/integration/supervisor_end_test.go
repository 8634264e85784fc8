package integration

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// The supervisor's end without a runtime: the NRI plugin starts it with
// --init-timeout 0 (a Kubernetes container may be created long before it
// starts) and ends it with SIGTERM when the container stops or is
// removed; podman's precreate hook keeps a bounded wait.
func TestSupervisorEnd(t *testing.T) {
	bin := testenv.Binary(t)
	tests := []struct {
		name        string
		initTimeout string
		term        bool
		wantCode    int
	}{
		{name: "no bound: SIGTERM ends it", initTimeout: "0s", term: true, wantCode: 0},
		{name: "bounded: no runtime connects", initTimeout: "300ms", wantCode: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			socket := filepath.Join(dir, "sup.sock")
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			cmd := exec.Command(bin, "__supervise", "--socket", socket, "--log-dir", dir, "--init-timeout", tt.initTimeout)
			cmd.ExtraFiles = []*os.File{w}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			line, err := bufio.NewReader(r).ReadString('\n')
			if err != nil || !strings.Contains(line, `"ready":true`) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("the supervisor's report: %q, %v", line, err)
			}
			if tt.term {
				// Still waiting well past the podman route's bound.
				time.Sleep(500 * time.Millisecond)
				if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatalf("the supervisor gave up before SIGTERM: %v", err)
				}
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				code := 0
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					code = exit.ExitCode()
				}
				if code != tt.wantCode {
					t.Errorf("exit code %d, want %d (%v)", code, tt.wantCode, err)
				}
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatal("the supervisor did not exit within 10 s")
			}
			if _, err := os.Stat(socket); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("socket %s left behind: %v", socket, err)
			}
		})
	}
}
