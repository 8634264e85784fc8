package doctor

import (
	"testing"
)

func TestParseIDMap(t *testing.T) {
	m, err := parseIDMap("         0       1001          1\n")
	if err != nil || len(m) != 1 || m[0] != (idRange{0, 1001, 1}) || mappedIDs(m) != 1 {
		t.Errorf("single: %v %v", m, err)
	}
	m, err = parseIDMap("0 1000 1\n1 100000 65536\n")
	if err != nil || mappedIDs(m) != 65537 || fmtIDMap(m) != "0 1000 1, 1 100000 65536" {
		t.Errorf("ranges: %v %v", m, err)
	}
	if m, _ := parseIDMap("0 0 4294967295\n"); mappedIDs(m) != 4294967295 {
		t.Errorf("full: %v", m)
	}
	for _, bad := range []string{"", "\n", "0 1000\n", "0 x 1\n", "0 1 99999999999\n"} {
		if _, err := parseIDMap(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSubIDRanges(t *testing.T) {
	data := "alice:100000:65536\n1001:200000:1000\nbob:300000:65536\n# comment\nalice:x:1\n"
	if n, lines := subIDRanges(data, "alice", 1000); n != 65536 || len(lines) != 1 {
		t.Errorf("alice: %d %q", n, lines)
	}
	if n, _ := subIDRanges(data, "carol", 1001); n != 1000 {
		t.Errorf("by uid: %d", n)
	}
	if n, _ := subIDRanges(data, "remainroot-test", 1002); n != 0 {
		t.Errorf("none: %d", n)
	}
}
