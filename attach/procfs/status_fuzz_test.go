package procfs

import "testing"

// FuzzParseStatus: any /proc/PID/status text parses into credentials or
// an error, never a panic.
func FuzzParseStatus(f *testing.F) {
	f.Add([]byte("Name:\tsh\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t4 27 \nCapInh:\t0000000000000000\n" +
		"CapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n"))
	f.Add([]byte("Uid:\t1\nGid:\nGroups:\t-1\nCapEff:\tzz\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseStatus(data)
		if err != nil {
			return
		}
		if c.Groups != nil && len(c.Groups) == 0 {
			t.Errorf("empty, non-nil group list")
		}
	})
}
