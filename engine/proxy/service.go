package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/budgie-sh/budgie/models"
)

// backend is a Backend with its counters; the pointer is kept across
// SetBackends calls for the same ID so counters and active counts survive.
type backend struct {
	Backend
	requests, active, failures, bytesIn, bytesOut atomic.Int64
	pool                                          chan *upConn // idle kept-alive connections (http)
}

// drain closes the backend's idle connections.
func (b *backend) drain() {
	for {
		select {
		case up := <-b.pool:
			up.Close()
		default:
			return
		}
	}
}

// service serves one published port.
type service struct {
	name, strategy, proto string
	lim                   Options // with defaults
	log                   *slog.Logger

	mu       sync.Mutex
	backends []*backend // in the order given
	next     int        // round-robin position

	ln     net.Listener   // tcp, http
	pc     net.PacketConn // udp
	udp    *udpForwarder  // udp
	wg     sync.WaitGroup
	closed atomic.Bool
	conns  sync.Map     // open client connections (tcp, http), closed on close
	open   atomic.Int64 // len(conns), capped by lim.MaxConns
}

// listen binds the port; a random port is resolved in the returned key.
func (s *service) listen(k Key) (Key, error) {
	addr := net.JoinHostPort(k.HostIP, strconv.Itoa(int(k.HostPort)))
	if s.proto == "udp" {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return Key{}, bindError(s.name, k, err)
		}
		s.pc = pc
		k.HostPort = uint16(pc.LocalAddr().(*net.UDPAddr).Port)
		return k, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return Key{}, bindError(s.name, k, err)
	}
	s.ln = ln
	k.HostPort = uint16(ln.Addr().(*net.TCPAddr).Port)
	return k, nil
}

// start serves the bound port in the background.
func (s *service) start() {
	switch s.proto {
	case "udp":
		s.udp = newUDPForwarder(s)
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.udp.serve() }()
	default:
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.acceptTCP() }()
	}
}

// close stops serving and waits for the serving goroutines.
func (s *service) close() {
	if s.closed.Swap(true) {
		return
	}
	switch {
	case s.ln != nil:
		_ = s.ln.Close()
		s.conns.Range(func(k, _ any) bool { _ = k.(net.Conn).Close(); return true })
	case s.pc != nil:
		_ = s.pc.Close()
		s.udp.close()
	}
	s.wg.Wait()
	s.mu.Lock()
	for _, b := range s.backends {
		b.drain()
	}
	s.mu.Unlock()
}

// setBackends replaces the set, keeping counters of backends that stay.
func (s *service) setBackends(bs []Backend) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := map[string]*backend{}
	for _, b := range s.backends {
		old[b.ID+"|"+b.Addr] = b
	}
	next := make([]*backend, 0, len(bs))
	for _, b := range bs {
		if o := old[b.ID+"|"+b.Addr]; o != nil {
			o.Backend = b
			next = append(next, o)
			delete(old, b.ID+"|"+b.Addr)
			continue
		}
		next = append(next, &backend{Backend: b, pool: make(chan *upConn, poolSize)})
	}
	for _, gone := range old {
		gone.drain()
	}
	s.backends = next
}

// pick chooses a healthy backend not in tried, by the strategy; nil when
// none is left. It counts the pick as active (the caller calls done).
func (s *service) pick(tried map[*backend]bool) *backend {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.backends)
	var best *backend
	if s.strategy == LeastConnections {
		// Fewest active wins; ties rotate, as in nginx's least_conn.
		at := 0
		for i := 0; i < n; i++ {
			b := s.backends[(s.next+i)%n]
			if b.Healthy && !tried[b] && (best == nil || b.active.Load() < best.active.Load()) {
				best, at = b, i
			}
		}
		if best != nil {
			s.next = (s.next + at + 1) % n
		}
	} else {
		for i := 0; i < n; i++ {
			b := s.backends[(s.next+i)%n]
			if b.Healthy && !tried[b] {
				best, s.next = b, (s.next+i+1)%n
				break
			}
		}
	}
	if best != nil {
		best.active.Add(1)
		best.requests.Add(1)
	}
	return best
}

// stats reports the service's counters under key.
func (s *service) stats(k Key) models.ServiceStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := models.ServiceStats{Name: s.name, HostIP: k.HostIP, HostPort: k.HostPort, Protocol: s.proto,
		Strategy: s.strategy, Backends: make([]models.BackendStats, 0, len(s.backends))}
	for _, b := range s.backends {
		out.Backends = append(out.Backends, models.BackendStats{
			ID: b.ID, Name: b.Name, Addr: b.Addr, Healthy: b.Healthy,
			Requests: b.requests.Load(), Active: b.active.Load(), Failures: b.failures.Load(),
			BytesIn: b.bytesIn.Load(), BytesOut: b.bytesOut.Load(),
		})
	}
	return out
}

// dial connects to a backend, moving on to the next healthy one when a
// backend refuses; it returns the connection and the backend (active).
func (s *service) dial(ctx context.Context) (net.Conn, *backend, error) {
	tried := map[*backend]bool{}
	var last error = errNoBackend
	for {
		b := s.pick(tried)
		if b == nil {
			return nil, nil, last
		}
		tried[b] = true
		d := net.Dialer{Timeout: s.lim.DialTimeout}
		c, err := d.DialContext(ctx, "tcp", b.Addr)
		if err == nil {
			return c, b, nil
		}
		b.failures.Add(1)
		b.requests.Add(-1)
		b.active.Add(-1)
		last = err
		s.log.Debug("proxy: backend refused", "service", s.name, "backend", b.Name, "err", err)
	}
}

var errNoBackend = errors.New("no healthy backend")

// acceptTCP proxies each connection to one backend.
func (s *service) acceptTCP() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.closed.Load() {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if s.open.Load() >= int64(s.lim.MaxConns) {
			_ = c.Close()
			s.log.Debug("proxy: connection refused, too many open", "service", s.name, "max", s.lim.MaxConns)
			continue
		}
		s.open.Add(1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.open.Add(-1)
			s.conns.Store(c, struct{}{})
			defer s.conns.Delete(c)
			if s.proto == "http" {
				s.serveHTTPConn(c)
			} else {
				s.serveTCP(c)
			}
		}()
	}
}

func (s *service) serveTCP(client net.Conn) {
	defer client.Close()
	up, b, err := s.dial(context.Background())
	if err != nil {
		s.log.Debug("proxy: no backend for connection", "service", s.name, "err", err)
		return
	}
	defer b.active.Add(-1)
	defer up.Close()
	done := make(chan struct{})
	go func() {
		n, _ := io.Copy(up, client)
		b.bytesIn.Add(n)
		closeWrite(up)
		close(done)
	}()
	n, _ := io.Copy(client, up)
	b.bytesOut.Add(n)
	closeWrite(client)
	<-done
}

// closeWrite half-closes a TCP connection, so the other side sees EOF
// while answers still flow back.
func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
		return
	}
	_ = c.Close()
}
