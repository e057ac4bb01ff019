package volsync

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// DefaultClientIdleTimeout is how long a Client waits by default for the
// primary to send anything while an operation runs. The primary sends
// nothing while it hashes one big file for the index (a 16 GiB file read
// at 150 MB/s takes about two minutes), so it is not much shorter.
const DefaultClientIdleTimeout = 2 * time.Minute

// readClock is the Client's connection as its frame reader sees it. While
// an operation runs (see start), every read must receive something within
// idle, or it fails; when the operation's context ends, blocked reads and
// writes return at once. Waiting for change notifications has no idle
// limit: a quiet volume sends nothing.
type readClock struct {
	conn net.Conn
	idle time.Duration // ≤ 0: no idle limit

	mu     sync.Mutex
	on     bool      // an operation with an idle limit runs
	ended  bool      // its context ended: the deadline stays in the past
	pushed time.Time // when the read deadline was last moved
}

// Read reads from the connection, moving the read deadline on first.
func (rc *readClock) Read(p []byte) (int, error) {
	rc.arm()
	n, err := rc.conn.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		rc.mu.Lock()
		idle := rc.on && !rc.ended
		rc.mu.Unlock()
		if idle {
			err = fmt.Errorf("the primary sent nothing for %v (is it stalled?): %w: %w", rc.idle, errdefs.ErrUnavailable, err)
		}
	}
	return n, err
}

// arm sets the read deadline idle from now. It moves it at most every
// quarter of idle, so a read may fail after ¾ of idle without data.
func (rc *readClock) arm() {
	if rc.idle <= 0 {
		return
	}
	now := time.Now()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.on && !rc.ended && now.Sub(rc.pushed) > rc.idle/4 {
		rc.conn.SetReadDeadline(now.Add(rc.idle))
		rc.pushed = now
	}
}

// start begins an operation: reads get the idle limit when idle is set,
// and all I/O ends when ctx does. stop ends the operation.
func (rc *readClock) start(ctx context.Context, idle bool) (stop func()) {
	rc.mu.Lock()
	rc.on, rc.ended, rc.pushed = idle && rc.idle > 0, false, time.Time{}
	rc.mu.Unlock()
	s := context.AfterFunc(ctx, func() {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.ended = true
		rc.conn.SetDeadline(time.Unix(1, 0))
	})
	return func() {
		s()
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.on && !rc.ended {
			rc.conn.SetReadDeadline(time.Time{})
		}
		rc.on = false
	}
}
