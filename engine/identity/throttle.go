package identity

import (
	"net"
	"sync"
	"time"
)

// Refused handshakes come as fast as a stranger can dial, so recording
// them must not rewrite and fsync trust.json each time: a repeated attempt
// by the same node with the same name from the same host is written at
// most once per pendingEvery, and new requests at most maxPendingWrites
// per pendingEvery altogether. What is not written is still refused.
const (
	pendingEvery     = time.Minute
	maxPendingWrites = 60
	maxPendingSeen   = 1024 // attempts remembered in memory
)

// attemptThrottle remembers recent attempts by untrusted nodes (in memory,
// per TrustStore).
type attemptThrottle struct {
	mu      sync.Mutex
	seen    map[ID]seenAttempt
	window  time.Time // start of the current write budget window
	written int       // writes in the window
}

type seenAttempt struct {
	name, host string
	at         time.Time
	outcome    pendingOutcome
}

// recent returns the outcome recorded for an attempt like this one within
// pendingEvery, or ok=false when this attempt should be written.
func (t *attemptThrottle) recent(id ID, name, addr string, now time.Time) (pendingOutcome, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.seen[id]
	if ok && a.name == name && a.host == hostOf(addr) && now.Sub(a.at) < pendingEvery && now.Sub(a.at) >= 0 {
		if a.outcome == pendingDenied {
			return pendingDenied, true
		}
		return pendingThrottled, true
	}
	if now.Sub(t.window) >= pendingEvery || now.Before(t.window) {
		t.window, t.written = now, 0
	}
	if t.written >= maxPendingWrites {
		return pendingThrottled, true
	}
	t.written++
	return 0, false
}

// remember notes what was recorded for id.
func (t *attemptThrottle) remember(id ID, name, addr string, now time.Time, outcome pendingOutcome) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seen == nil {
		t.seen = map[ID]seenAttempt{}
	}
	if _, ok := t.seen[id]; !ok && len(t.seen) >= maxPendingSeen {
		for k, a := range t.seen {
			if now.Sub(a.at) >= pendingEvery {
				delete(t.seen, k)
			}
		}
		if len(t.seen) >= maxPendingSeen {
			clear(t.seen)
		}
	}
	t.seen[id] = seenAttempt{name: name, host: hostOf(addr), at: now, outcome: outcome}
}

// forget drops what is remembered about id (it was trusted, denied or
// forgotten in this process).
func (t *attemptThrottle) forget(id ID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.seen, id)
}

// hostOf is the host part of host:port (each connection has its own port).
func hostOf(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
