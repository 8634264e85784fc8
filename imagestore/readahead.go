package imagestore

import (
	"io"
)

// readAhead reads r in a goroutine of its own, up to readAheadChunks
// chunks ahead of its reader: a layer's decompression runs on one CPU
// while its lines are parsed on another. Close stops the goroutine; r is
// not read after Close returns, nor a readAhead after Close.
type readAhead struct {
	full chan chunk
	free chan []byte
	stop chan struct{}
	done chan struct{}
	// buf is the chunk being read, cur its unread bytes, err what came
	// after it.
	buf, cur []byte
	err      error
}

type chunk struct {
	b   []byte
	err error
}

const (
	readAheadChunks = 4
	readAheadSize   = 256 << 10
)

func newReadAhead(r io.Reader) *readAhead {
	a := &readAhead{full: make(chan chunk, readAheadChunks), free: make(chan []byte, readAheadChunks),
		stop: make(chan struct{}), done: make(chan struct{})}
	for range readAheadChunks {
		a.free <- make([]byte, readAheadSize)
	}
	go a.fill(r)
	return a
}

// fill reads r into free chunks until an error (io.EOF at the end).
func (a *readAhead) fill(r io.Reader) {
	defer close(a.done)
	for {
		var b []byte
		select {
		case b = <-a.free:
		case <-a.stop:
			return
		}
		n, err := io.ReadFull(r, b)
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		select {
		case a.full <- chunk{b[:n], err}:
		case <-a.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (a *readAhead) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.err != nil {
			return 0, a.err
		}
		if a.buf != nil {
			a.free <- a.buf
		}
		c := <-a.full
		a.buf, a.cur, a.err = c.b[:cap(c.b)], c.b, c.err
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the reading goroutine and waits for it.
func (a *readAhead) Close() error {
	close(a.stop)
	<-a.done
	return nil
}
