package hook

import (
	"strings"
	"testing"
)

// FuzzParseState: any stdin gives a state with a positive pid or one error
// line starting with "container state on stdin:", never a panic.
func FuzzParseState(f *testing.F) {
	for _, s := range []string{runcState, crunState, "", "{}", `{"pid":-1}`, `{"pid":1,"annotations":{"a":1}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseState(strings.NewReader(string(data)))
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "container state on stdin: ") || strings.ContainsAny(msg, "\n\r") {
				t.Errorf("error is not one line about the state: %q", msg)
			}
			return
		}
		if st.Pid <= 0 {
			t.Errorf("accepted pid %d", st.Pid)
		}
	})
}
