package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// How doctor prints its checks: text for people, JSON for programs.

// WriteText prints one line per check, "ok|warn|fail  NAME: MESSAGE", and
// for warnings and failures an indented "-> REMEDY" line, then a summary.
func WriteText(w io.Writer, checks []Check) error {
	var b strings.Builder
	for _, c := range checks {
		fmt.Fprintf(&b, "%-4s  %s: %s\n", c.Status, c.Name, c.Message)
		if c.Remedy != "" && c.Status != OK {
			fmt.Fprintf(&b, "      -> %s\n", c.Remedy)
		}
	}
	fmt.Fprintf(&b, "%d ok, %d warn, %d fail\n", Count(checks, OK), Count(checks, Warn), Count(checks, Fail))
	_, err := io.WriteString(w, b.String())
	return err
}

// Report is the JSON document `remainroot doctor --json` prints.
type Report struct {
	Version string  `json:"version"` // remainroot's version
	UID     int     `json:"uid"`     // the user doctor ran as
	Checks  []Check `json:"checks"`
	OK      int     `json:"ok"`
	Warn    int     `json:"warn"`
	Fail    int     `json:"fail"`
}

// WriteJSON prints checks as an indented Report.
func WriteJSON(w io.Writer, remainrootVersion string, uid int, checks []Check) error {
	if checks == nil {
		checks = []Check{}
	}
	r := Report{Version: remainrootVersion, UID: uid, Checks: checks,
		OK: Count(checks, OK), Warn: Count(checks, Warn), Fail: Count(checks, Fail)}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode doctor report: %w", err)
	}
	return nil
}
