package attach

import "github.com/remainroot/remainroot/attach/procfs"

// NoNewPrivs reports whether the thread has no_new_privs set, from
// /proc/TID/status (a thread that cannot be read counts as without it).
func (e env) NoNewPrivs() bool {
	v, err := procfs.StatusField(e.th.tid, "NoNewPrivs")
	return err == nil && v == "1"
}
