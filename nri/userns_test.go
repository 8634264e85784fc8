package nri

import "testing"

func TestReadIDMaps(t *testing.T) {
	proc := fakeProc(t, map[string]string{"7": "0 1000 1\n", "8": "0 100000 65536\n"})
	tests := []struct {
		path     string
		wantErr  bool
		single   bool
		mapsGID5 bool
	}{
		{path: "/proc/7/ns/user", single: true},
		{path: "/proc/8/ns/user", mapsGID5: true},
		{path: "/run/netns/x", wantErr: true},
		{path: "/proc/9/ns/user", wantErr: true},
	}
	for _, tt := range tests {
		m, err := readIDMaps(proc, tt.path)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err %v, want error %v", tt.path, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if (len(m.UIDs) == 1 && m.UIDs[0].Size == 1) != tt.single || m.mapsGID(5) != tt.mapsGID5 {
			t.Errorf("%s: uids %v, maps gid 5 %v; want single %v, %v", tt.path, m.UIDs, m.mapsGID(5), tt.single, tt.mapsGID5)
		}
	}
}
