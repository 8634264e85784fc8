package stress

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
)

// saturateCPUs starts one busy loop per CPU, stopped when the test ends;
// it returns their pids. Each loop also ends itself once this process is
// gone (kill -0 fails), and gets SIGKILL when its parent thread exits.
func saturateCPUs(t *testing.T) map[int]bool {
	t.Helper()
	loop := fmt.Sprintf("while kill -0 %d 2>/dev/null; do :; done", os.Getpid())
	pids := map[int]bool{}
	for i := 0; i < runtime.NumCPU(); i++ {
		cmd := exec.Command("sh", "-c", loop)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatalf("busy loop: %v", err)
		}
		pids[cmd.Process.Pid] = true
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
	}
	return pids
}
