package volsync

import (
	"net"
	"sync"
	"time"
)

// Defaults for the limits on port 18733 (see ServerOptions).
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultIdleTimeout      = 10 * time.Minute
	DefaultMaxConns         = 256
	DefaultMaxConnsPerIP    = 16
)

// refusalLogEvery is how often a refused connection is logged per IP.
const refusalLogEvery = time.Minute

// maxRefusalLog caps the IPs remembered for refusalLogEvery.
const maxRefusalLog = 4096

// connLimiter caps concurrent connections overall and per remote IP, and
// says when a refusal should be logged (once per IP per refusalLogEvery).
type connLimiter struct {
	max, perIP int
	now        func() time.Time

	mu     sync.Mutex
	total  int
	byIP   map[string]int
	logged map[string]time.Time
}

func newConnLimiter(max, perIP int) *connLimiter {
	return &connLimiter{max: max, perIP: perIP, now: time.Now, byIP: map[string]int{}, logged: map[string]time.Time{}}
}

// acquire takes a slot for ip. When it refuses, logIt says whether this
// refusal should be logged (see shouldLog).
func (l *connLimiter) acquire(ip string) (ok, logIt bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total < l.max && l.byIP[ip] < l.perIP {
		l.total++
		l.byIP[ip]++
		return true, false
	}
	return false, l.shouldLogLocked(ip)
}

// shouldLog reports whether a failure from ip is the first one in
// refusalLogEvery, so floods of refused or failed connections log once.
func (l *connLimiter) shouldLog(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.shouldLogLocked(ip)
}

func (l *connLimiter) shouldLogLocked(ip string) bool {
	now := l.now()
	if last, seen := l.logged[ip]; seen && now.Sub(last) < refusalLogEvery {
		return false
	}
	if len(l.logged) >= maxRefusalLog {
		for k, t := range l.logged {
			if now.Sub(t) >= refusalLogEvery {
				delete(l.logged, k)
			}
		}
		if len(l.logged) >= maxRefusalLog {
			return false // a flood from many addresses: stay quiet
		}
	}
	l.logged[ip] = now
	return true
}

// release gives back ip's slot.
func (l *connLimiter) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.byIP[ip]--; l.byIP[ip] <= 0 {
		delete(l.byIP, ip)
	}
}

// remoteIP is the host part of a connection's remote address.
func remoteIP(c net.Conn) string {
	a := c.RemoteAddr()
	if a == nil {
		return ""
	}
	if host, _, err := net.SplitHostPort(a.String()); err == nil {
		return host
	}
	return a.String()
}

// timedWriter gives every write to a connection a deadline, so a peer
// that stops reading cannot hold a session (and its goroutines) forever.
type timedWriter struct {
	c net.Conn
	d time.Duration
}

func (w timedWriter) Write(p []byte) (int, error) {
	w.c.SetWriteDeadline(time.Now().Add(w.d))
	return w.c.Write(p)
}
