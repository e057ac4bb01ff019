package screen

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// maxCaptured bounds what a capture keeps.
const maxCaptured = 1 << 20

// capture holds what the process writes to os.Stdout and os.Stderr while
// the screen is up: Bubble Tea's report of a panic, say, which would be
// written to the alternate screen and lost when it closes. Once the
// terminal is back it is printed on the real stderr.
type capture struct {
	stdout, stderr *os.File
	r, w           *os.File
	buf            bytes.Buffer
	dropped        int64
	done           chan struct{}
}

// startCapture points os.Stdout and os.Stderr at a pipe.
func startCapture() (*capture, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("capture output while nest is up: %w", err)
	}
	c := &capture{stdout: os.Stdout, stderr: os.Stderr, r: r, w: w, done: make(chan struct{})}
	os.Stdout, os.Stderr = w, w
	go c.read()
	return c, nil
}

func (c *capture) read() {
	defer close(c.done)
	chunk := make([]byte, 32<<10)
	for {
		n, err := c.r.Read(chunk)
		keep := min(n, maxCaptured-c.buf.Len())
		c.buf.Write(chunk[:keep])
		c.dropped += int64(n - keep)
		if err != nil {
			return
		}
	}
}

// stop puts os.Stdout and os.Stderr back and prints what was captured.
func (c *capture) stop() error {
	os.Stdout, os.Stderr = c.stdout, c.stderr
	c.w.Close()
	<-c.done
	c.r.Close()
	if c.dropped > 0 {
		fmt.Fprintf(&c.buf, "\n(%d more bytes written while nest was up were dropped)\n", c.dropped)
	}
	_, err := io.Copy(c.stderr, &c.buf)
	return err
}
