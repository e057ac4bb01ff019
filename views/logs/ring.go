package logs

import "time"

// Line is one log line.
type Line struct {
	// Seq numbers lines from 0 in the order they arrived.
	Seq uint64
	// Time is the line's timestamp (zero when the backend gave none).
	Time time.Time
	// Text is the line without its newline or escape sequences.
	Text string
	// Stderr says the line came from standard error.
	Stderr bool
}

// Ring keeps the last Cap lines; older ones are dropped, so memory stays
// bounded however much a container prints.
type Ring struct {
	buf   []Line
	start int    // index in buf of the oldest line
	n     int    // lines held
	next  uint64 // Seq of the next line
}

// NewRing returns a ring holding at most capacity lines (at least 1).
func NewRing(capacity int) *Ring { return &Ring{buf: make([]Line, max(capacity, 1))} }

// Push appends a line, giving it the next Seq; it returns the dropped
// oldest line when the ring was full.
func (r *Ring) Push(l Line) (dropped Line, ok bool) {
	l.Seq = r.next
	r.next++
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = l
		r.n++
		return Line{}, false
	}
	dropped = r.buf[r.start]
	r.buf[r.start] = l
	r.start = (r.start + 1) % len(r.buf)
	return dropped, true
}

// Len is the number of lines held; Cap the most it holds.
func (r *Ring) Len() int { return r.n }

// Cap is the most lines the ring holds.
func (r *Ring) Cap() int { return len(r.buf) }

// First is the Seq of the oldest line held; End is one past the newest.
func (r *Ring) First() uint64 { return r.next - uint64(r.n) }

// End is one past the Seq of the newest line.
func (r *Ring) End() uint64 { return r.next }

// Get returns the line with sequence number seq, if still held.
func (r *Ring) Get(seq uint64) (*Line, bool) {
	if seq < r.First() || seq >= r.next {
		return nil, false
	}
	return &r.buf[(r.start+int(seq-r.First()))%len(r.buf)], true
}

// Reset drops every line.
func (r *Ring) Reset() { r.start, r.n, r.next = 0, 0, 0 }
