package main

import (
	"encoding/json"
	"os"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach"
)

// stats is what --stats writes: the tracer's own cost.
type stats struct {
	TracerMaxRSSKiB int64  `json:"tracer_max_rss_kib"`
	Stops           uint64 `json:"stops"`
	Notifications   uint64 `json:"notifications"`
	// StopsBy splits stops by kind (see attach.Result.StopsBy).
	StopsBy map[string]uint64 `json:"stops_by,omitempty"`
	// FusedPlans counts the plans whose first steps the stub made in the
	// tracee without a stop (mode full).
	FusedPlans uint64 `json:"fused_plans"`
	// Attached, Escalated, Released: a lazy trace's attachments (see
	// attach.Result).
	Attached  uint64 `json:"attached"`
	Escalated uint64 `json:"escalated"`
	Released  uint64 `json:"released"`
	// InProcess counts the programs the in-process route went into.
	InProcess uint64 `json:"in_process"`
}

func writeStats(path string, res attach.Result) error {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	data, err := json.Marshal(stats{TracerMaxRSSKiB: ru.Maxrss, Stops: res.Stops, Notifications: res.Notifications, StopsBy: res.StopsBy,
		FusedPlans: res.Fused, Attached: res.Attached, Escalated: res.Escalated, Released: res.Released,
		InProcess: res.InProcess})
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
