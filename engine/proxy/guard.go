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
// is read, and idle deadlines while a body or an answer moves.
//
// Its fields are set by the goroutine that owns the exchange, before any
// read or write they govern; the tunnel's two goroutines only read them.
type guardedConn struct {
	net.Conn
	// budget is how many more bytes a head may read; negative when no
	// head is being read. At zero, reads fail with errHeadTooLarge.
	budget int64
	// readIdle and writeIdle, when positive, push the read (write)
	// deadline that far ahead before each read (write): a peer that
	// stalls for that long ends the exchange. Zero leaves the deadline
	// as last set.
	readIdle, writeIdle time.Duration
	// readBy and writeBy are the idle deadlines last set; one set less
	// than an eighth of the idle time ago is not set again, which saves
	// most deadline updates on a busy connection.
	readBy, writeBy time.Time
	// headBy, when not zero, is the deadline of the head being read, not
	// yet set on the connection: the first read of the head sets it. A
	// head that came whole with its first byte (in the read buffer)
	// needs no read, and no deadline update.
	headBy time.Time
}

func newGuardedConn(c net.Conn, idle time.Duration) *guardedConn {
	return &guardedConn{Conn: c, budget: -1, readIdle: idle, writeIdle: idle}
}

// Read reads within the head budget and the idle deadline.
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
	case !c.headBy.IsZero():
		_ = c.Conn.SetReadDeadline(c.headBy)
		c.headBy = time.Time{}
	case c.readIdle > 0:
		c.readBy = push(c.readBy, c.readIdle, c.Conn.SetReadDeadline)
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
		c.writeBy = push(c.writeBy, c.writeIdle, c.Conn.SetWriteDeadline)
	}
	return c.Conn.Write(p)
}

// push moves an idle deadline, last set to by, to idle from now, unless
// it was set less than idle/8 ago; it returns the deadline now set.
func push(by time.Time, idle time.Duration, set func(time.Time) error) time.Time {
	next := time.Now().Add(idle)
	if next.Sub(by) < idle/8 {
		return by
	}
	_ = set(next)
	return next
}

// startHead gives the next reads a head's byte budget and a fixed
// deadline, timeout from now, instead of the idle one.
func (c *guardedConn) startHead(budget int, timeout time.Duration) {
	c.budget = int64(budget)
	c.readIdle, c.readBy = 0, time.Time{}
	c.headBy = time.Now().Add(timeout)
}

// endHead lifts the budget and goes back to idle read deadlines.
func (c *guardedConn) endHead(idle time.Duration) {
	c.budget = -1
	c.readIdle = idle
	c.headBy = time.Time{}
}

// unguard lifts every guard, for a tunnel after a protocol switch.
func (c *guardedConn) unguard() {
	c.budget, c.readIdle, c.writeIdle = -1, 0, 0
	c.readBy, c.writeBy, c.headBy = time.Time{}, time.Time{}, time.Time{}
	_ = c.Conn.SetDeadline(time.Time{})
}

// isTimeout reports whether err is a deadline that passed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
