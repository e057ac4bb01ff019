package proxy

import (
	"net"
	"sync"
	"time"
)

// udpForwarder relays datagrams: each client address gets a session with
// one backend (chosen by the strategy), whose answers go back to it.
type udpForwarder struct {
	s        *service
	mu       sync.Mutex
	sessions map[string]*udpSession
	wg       sync.WaitGroup
}

type udpSession struct {
	up   *net.UDPConn
	b    *backend
	last time.Time
}

func newUDPForwarder(s *service) *udpForwarder {
	return &udpForwarder{s: s, sessions: map[string]*udpSession{}}
}

// serve reads client datagrams until the port is closed.
func (f *udpForwarder) serve() {
	buf := make([]byte, 64<<10)
	for {
		n, from, err := f.s.pc.ReadFrom(buf)
		if err != nil {
			if f.s.closed.Load() {
				return
			}
			continue
		}
		sess := f.session(from)
		if sess == nil {
			continue
		}
		sess.b.bytesIn.Add(int64(n))
		if _, err := sess.up.Write(buf[:n]); err != nil {
			sess.b.failures.Add(1)
		}
	}
}

// session returns the client's session, opening one on a new backend;
// past MaxUDPSessions, the session idle the longest makes room.
func (f *udpForwarder) session(from net.Addr) *udpSession {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.sessions[from.String()]; s != nil {
		s.last = time.Now()
		return s
	}
	if len(f.sessions) >= f.s.lim.MaxUDPSessions {
		f.evictOldest()
	}
	b := f.s.pick(nil)
	if b == nil {
		return nil
	}
	raddr, err := net.ResolveUDPAddr("udp", b.Addr)
	var up *net.UDPConn
	if err == nil {
		up, err = net.DialUDP("udp", nil, raddr)
	}
	if err != nil {
		b.failures.Add(1)
		b.active.Add(-1)
		return nil
	}
	s := &udpSession{up: up, b: b, last: time.Now()}
	f.sessions[from.String()] = s
	f.wg.Add(1)
	go func() { defer f.wg.Done(); f.relay(from, s) }()
	return s
}

// evictOldest ends the session idle the longest; f.mu is held. Its relay
// goroutine sees its connection closed and stops.
func (f *udpForwarder) evictOldest() {
	var oldest string
	var at time.Time
	for k, s := range f.sessions {
		if oldest == "" || s.last.Before(at) {
			oldest, at = k, s.last
		}
	}
	if s := f.sessions[oldest]; s != nil {
		delete(f.sessions, oldest)
		_ = s.up.Close()
		f.s.log.Debug("proxy: udp session evicted", "service", f.s.name, "client", oldest, "max", f.s.lim.MaxUDPSessions)
	}
}

// relay sends a backend's answers to the client until the session idles
// out or is evicted.
func (f *udpForwarder) relay(to net.Addr, s *udpSession) {
	defer func() {
		f.mu.Lock()
		if f.sessions[to.String()] == s {
			delete(f.sessions, to.String())
		}
		f.mu.Unlock()
		s.up.Close()
		s.b.active.Add(-1)
	}()
	idleFor := f.s.lim.UDPIdleTimeout
	buf := make([]byte, 64<<10)
	for {
		_ = s.up.SetReadDeadline(time.Now().Add(idleFor))
		n, err := s.up.Read(buf)
		if err != nil {
			f.mu.Lock()
			idle := time.Since(s.last) >= idleFor
			f.mu.Unlock()
			if f.s.closed.Load() || idle {
				return
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
		s.b.bytesOut.Add(int64(n))
		if _, err := f.s.pc.WriteTo(buf[:n], to); err != nil {
			return
		}
	}
}

// close ends every session and waits for them.
func (f *udpForwarder) close() {
	f.mu.Lock()
	for _, s := range f.sessions {
		_ = s.up.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}
