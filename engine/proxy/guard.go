package proxy

import (
	"errors"
	"net"
	"time"
)

// errHeadTooLarge is a request or response head past Options.MaxHeaderBytes.
var errHeadTooLarge = errors.New("message head too large")

// guardedConn is a connection of the HTTP relay, client's or backend's,
// with the two guards every byte goes through: a byte budget while a head
// is read, and deadlines: a fixed one while a head is awaited and read,
// idle ones while a body or an answer moves.
//
// A deadline of timeout is set timeout plus an eighth ahead, and kept as
// long as it is still at least timeout ahead: each timeout may run up to
// an eighth longer, and a busy connection moves its deadlines once an
// eighth of their timeout rather than at every read, write or request
// (each move takes the descriptor's lock and the runtime's timer heap).
//
// Its fields are set by the goroutine that owns the exchange, before any
// read or write they govern; the tunnel's two goroutines only read them.
type guardedConn struct {
	net.Conn
	// budget is how many more bytes a head may read; negative when no
	// head is being read. At zero, reads fail with errHeadTooLarge.
	budget int64
	// readIdle and writeIdle, when positive, keep the read (write)
	// deadline that far ahead before each read (write): a peer that
	// stalls for that long ends the exchange. Zero leaves the deadline
	// as last set.
	readIdle, writeIdle time.Duration
	// readBy and writeBy are the deadlines set on the connection.
	readBy, writeBy time.Time
	// headTimeout, when positive, is the deadline of the head being read,
	// from headStart, not yet set: the head's first read sets it. A head
	// that came whole with its first byte (in the read buffer) needs no
	// read, and no deadline.
	headTimeout time.Duration
	headStart   time.Time
}

func newGuardedConn(c net.Conn, idle time.Duration) *guardedConn {
	return &guardedConn{Conn: c, budget: -1, readIdle: idle, writeIdle: idle}
}

// Read reads within the head budget and the read deadline.
func (c *guardedConn) Read(p []byte) (int, error) {
	if c.budget >= 0 {
		if c.budget == 0 {
			return 0, errHeadTooLarge
		}
		if int64(len(p)) > c.budget {
			p = p[:c.budget]
		}
	}
	switch {
	case c.headTimeout > 0:
		c.readBy = extend(c.readBy, c.headStart.Add(c.headTimeout), c.headTimeout, c.Conn.SetReadDeadline)
		c.headTimeout = 0
	case c.readIdle > 0:
		c.readBy = extend(c.readBy, time.Now().Add(c.readIdle), c.readIdle, c.Conn.SetReadDeadline)
	}
	n, err := c.Conn.Read(p)
	if c.budget >= 0 {
		c.budget -= int64(n)
	}
	return n, err
}

// Write writes within the idle deadline.
func (c *guardedConn) Write(p []byte) (int, error) {
	if c.writeIdle > 0 {
		c.writeBy = extend(c.writeBy, time.Now().Add(c.writeIdle), c.writeIdle, c.Conn.SetWriteDeadline)
	}
	return c.Conn.Write(p)
}

// extend makes a deadline, set to by, fall between want and an eighth of
// timeout after it: by when it does, else want plus that eighth, set. It
// returns the deadline now set.
func extend(by, want time.Time, timeout time.Duration, set func(time.Time) error) time.Time {
	if d := by.Sub(want); d >= 0 && d <= timeout/8 {
		return by
	}
	by = want.Add(timeout / 8)
	_ = set(by)
	return by
}

// startHead gives the next reads a head's byte budget and a fixed
// deadline, timeout from now, instead of the idle one.
func (c *guardedConn) startHead(budget int, timeout time.Duration) {
	c.budget = int64(budget)
	c.readIdle = 0
	c.headStart, c.headTimeout = time.Now(), timeout
}

// endHead lifts the budget and goes back to idle read deadlines.
func (c *guardedConn) endHead(idle time.Duration) {
	c.budget = -1
	c.readIdle = idle
	c.headTimeout = 0
}

// unguard lifts every guard, for a tunnel after a protocol switch.
func (c *guardedConn) unguard() {
	c.budget, c.readIdle, c.writeIdle, c.headTimeout = -1, 0, 0, 0
	c.readBy, c.writeBy = time.Time{}, time.Time{}
	_ = c.Conn.SetDeadline(time.Time{})
}

// isTimeout reports whether err is a deadline that passed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
