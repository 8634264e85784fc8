package testenv

import (
	"os"
	"testing"
)

// TestBinary checks that the binary builds and is executable by everyone.
func TestBinary(t *testing.T) {
	path := Binary(t)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o005 != 0o005 {
		t.Errorf("%s has mode %v", path, st.Mode())
	}
	if again := Binary(t); again != path {
		t.Errorf("second call gave %s, first %s", again, path)
	}
}
