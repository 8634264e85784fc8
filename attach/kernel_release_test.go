package attach

import "testing"

func TestParseRelease(t *testing.T) {
	for _, c := range []struct {
		in       string
		maj, min int
		ok       bool
	}{
		{"6.18.0-1-amd64", 6, 18, true},
		{"5.10.0", 5, 10, true},
		{"6.11", 6, 11, true},
		{"4", 4, 0, false},
		{"", 0, 0, false},
		{"x.y", 0, 0, false},
	} {
		maj, min, ok := parseRelease(c.in)
		if ok != c.ok || ok && (maj != c.maj || min != c.min) {
			t.Errorf("parseRelease(%q) = %d, %d, %v; want %d, %d, %v", c.in, maj, min, ok, c.maj, c.min, c.ok)
		}
	}
}
