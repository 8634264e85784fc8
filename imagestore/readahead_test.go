package imagestore

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
	"time"
)

func TestReadAhead(t *testing.T) {
	data := make([]byte, 3*readAheadChunks*readAheadSize+123)
	for i := range data {
		data[i] = byte(i * 7)
	}
	broken := errors.New("broken")
	cases := []struct {
		name    string
		r       io.Reader
		want    []byte
		wantErr error
	}{
		{"all of it", bytes.NewReader(data), data, nil},
		{"one byte a read", iotest.OneByteReader(bytes.NewReader(data[:5000])), data[:5000], nil},
		{"nothing", bytes.NewReader(nil), nil, nil},
		{"an error after data", io.MultiReader(bytes.NewReader(data[:readAheadSize+9]), iotest.ErrReader(broken)), data[:readAheadSize+9], broken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newReadAhead(c.r)
			defer a.Close()
			got, err := io.ReadAll(a)
			if !errors.Is(err, c.wantErr) || !bytes.Equal(got, c.want) {
				t.Errorf("read %d bytes, %v; want %d bytes, %v", len(got), err, len(c.want), c.wantErr)
			}
		})
	}
}

// TestReadAheadClose: closing before the end stops the goroutine, which
// is then blocked on a full queue.
func TestReadAheadClose(t *testing.T) {
	a := newReadAhead(bytes.NewReader(make([]byte, 10*readAheadChunks*readAheadSize)))
	if _, err := io.ReadFull(a, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // the queue fills
	closed := make(chan struct{})
	go func() { a.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close does not return")
	}
}
