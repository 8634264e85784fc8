package procfs

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Thread ids as a traced program sees them. A thread inside a pid
// namespace (a container's) knows itself and its peers by the ids of that
// namespace: capget and capset name "the caller" by its own pid or tid
// there (libcap-ng puts getpid() in the header), which is not the id the
// tracer knows it by. /proc/TID/status lists a thread's id in every pid
// namespace from the one of the tracer's procfs down to its own (NSpid);
// the last one is the thread's own view.

// NSPids returns the NSpid line of thread tid: its ids from the tracer's
// pid namespace down to its own.
func NSPids(tid int) ([]int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return nil, err
	}
	return ParseNSpid(string(data))
}

// ParseNSpid reads the NSpid line of a /proc/TID/status text.
func ParseNSpid(status string) ([]int, error) {
	for _, line := range strings.Split(status, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != "NSpid" {
			continue
		}
		var ids []int
		for _, f := range strings.Fields(v) {
			n, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("status NSpid %q: %w", v, err)
			}
			ids = append(ids, n)
		}
		if len(ids) == 0 {
			break
		}
		return ids, nil
	}
	return nil, fmt.Errorf("status has no NSpid line")
}

// OwnTid returns thread tid's id in its own pid namespace (what gettid
// returns there); tid itself when that cannot be read.
func OwnTid(tid int) int {
	ids, err := NSPids(tid)
	if err != nil {
		return tid
	}
	return ids[len(ids)-1]
}
