package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// Balancing strategies.
const (
	// RoundRobin rotates over the healthy backends in order.
	RoundRobin = "round-robin"
	// LeastConnections picks the healthy backend with the fewest active
	// connections (requests, for http); ties rotate.
	LeastConnections = "least-connections"
)

// Options tune a Proxy. Every limit applies to each published port on its
// own; a zero field means its default. The HTTP timeouts may run up to an
// eighth longer than set (see the package doc).
type Options struct {
	// Logger receives what the proxy does; nil means discard.
	Logger *slog.Logger
	// DialTimeout bounds a connection to a backend; zero means 2 s.
	DialTimeout time.Duration

	// HeaderTimeout bounds the reading of an HTTP request's head, from
	// the connection (or the request's first byte) to its empty line;
	// zero means 15 s. A client too slow gets 408.
	HeaderTimeout time.Duration
	// IdleTimeout is how long an HTTP client connection may wait for its
	// next request; zero means 60 s.
	IdleTimeout time.Duration
	// BodyTimeout is the idle timeout of an HTTP exchange once its head
	// is read: a request body, an answer, or a write to either side that
	// makes no progress for this long ends the exchange and closes both
	// connections. Zero means 60 s.
	BodyTimeout time.Duration
	// ResponseTimeout bounds the wait for a backend's answer head once
	// the request is sent; zero means 60 s. A backend too slow is 504.
	ResponseTimeout time.Duration
	// ContinueTimeout is how long a request with Expect: 100-continue
	// waits for the backend's 100 Continue before its body is sent
	// anyway; zero means 1 s.
	ContinueTimeout time.Duration
	// MaxHeaderBytes bounds an HTTP head, request or answer, in bytes
	// (give or take the 16 KiB read buffer; one line is at most 16 KiB);
	// zero means 64 KiB. A request past it gets 431, an answer past it 502.
	MaxHeaderBytes int
	// MaxConns caps the open client connections of a tcp or http port;
	// zero means 4096. Connections past it are closed at once (refused);
	// open ones are never evicted.
	MaxConns int
	// MaxUDPSessions caps the client sessions of a udp port; zero means
	// 1024. A new client past it evicts the session idle the longest.
	MaxUDPSessions int
	// UDPIdleTimeout ends a UDP session without datagrams for this long;
	// zero means 60 s.
	UDPIdleTimeout time.Duration
}

// withDefaults fills the zero fields with their defaults.
func (o Options) withDefaults() Options {
	dur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	num := func(n *int, def int) {
		if *n <= 0 {
			*n = def
		}
	}
	dur(&o.DialTimeout, 2*time.Second)
	dur(&o.HeaderTimeout, 15*time.Second)
	dur(&o.IdleTimeout, 60*time.Second)
	dur(&o.BodyTimeout, 60*time.Second)
	dur(&o.ResponseTimeout, 60*time.Second)
	dur(&o.ContinueTimeout, time.Second)
	dur(&o.UDPIdleTimeout, 60*time.Second)
	num(&o.MaxHeaderBytes, 64<<10)
	num(&o.MaxConns, 4096)
	num(&o.MaxUDPSessions, 1024)
	return o
}

// Key identifies one published port.
type Key struct {
	// HostIP is the bound address; empty means all addresses.
	HostIP string
	// HostPort is the bound port.
	HostPort uint16
	// Protocol is "tcp", "http" or "udp".
	Protocol string
}

// String is "HOSTIP:PORT/PROTO".
func (k Key) String() string {
	return net.JoinHostPort(k.HostIP, strconv.Itoa(int(k.HostPort))) + "/" + k.Protocol
}

// Backend is one replica behind a published port.
type Backend struct {
	// ID and Name identify the container.
	ID, Name string
	// Addr is where it listens (container IP:port).
	Addr string
	// Healthy is false while its health check fails: no new traffic.
	Healthy bool
}

// ServiceConfig describes a port to publish.
type ServiceConfig struct {
	// Name is the service, for errors and stats.
	Name string
	// HostIP is the address to bind; empty means all addresses.
	HostIP string
	// HostPort is the port to bind; zero means a random free port.
	HostPort uint16
	// Protocol is "tcp" (empty means tcp), "http" or "udp".
	Protocol string
	// Strategy is RoundRobin (the default, when empty) or LeastConnections.
	Strategy string
	// Backends are the initial backends; SetBackends replaces them.
	Backends []Backend
}

// Proxy owns the published ports of one node. Use New; Close releases all.
type Proxy struct {
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	services map[Key]*service
}

// New returns a Proxy with nothing published.
func New(opts Options) *Proxy {
	opts = opts.withDefaults()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Proxy{opts: opts, log: log, services: map[Key]*service{}}
}

// Publish binds the port and starts serving it. A port already taken fails
// with errdefs.ErrConflict naming who holds it: another Budgie service, or
// the process (from /proc). It returns the bound key (the chosen port for a
// random one).
func (p *Proxy) Publish(ctx context.Context, cfg ServiceConfig) (Key, error) {
	proto := cfg.Protocol
	if proto == "" {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "http" && proto != "udp" {
		return Key{}, fmt.Errorf("publish %s: protocol %q is not tcp, http or udp: %w", cfg.Name, proto, errdefs.ErrInvalid)
	}
	strategy := cfg.Strategy
	if strategy == "" {
		strategy = RoundRobin
	}
	if strategy != RoundRobin && strategy != LeastConnections {
		return Key{}, fmt.Errorf("publish %s: strategy %q is not %s or %s: %w", cfg.Name, strategy, RoundRobin, LeastConnections, errdefs.ErrInvalid)
	}
	want := Key{HostIP: cfg.HostIP, HostPort: cfg.HostPort, Protocol: proto}
	p.mu.Lock()
	defer p.mu.Unlock()
	if cfg.HostPort != 0 {
		for k, s := range p.services {
			if k.HostPort == cfg.HostPort && sameFamily(k.Protocol, proto) && overlaps(k.HostIP, cfg.HostIP) {
				return Key{}, fmt.Errorf("host port %d/%s is already published by budgie service %s (pick another host port, or remove %s): %w",
					cfg.HostPort, wire(proto), s.name, s.name, errdefs.ErrConflict)
			}
		}
	}
	s := &service{name: cfg.Name, strategy: strategy, proto: proto, lim: p.opts, log: p.log}
	s.setBackends(cfg.Backends)
	key, err := s.listen(want)
	if err != nil {
		return Key{}, err
	}
	p.services[key] = s
	s.start()
	p.log.Info("proxy: published", "service", cfg.Name, "port", key.String(), "strategy", strategy)
	return key, nil
}

// SetBackends replaces the backends of a published port; connections in
// flight to removed backends go on.
func (p *Proxy) SetBackends(key Key, backends []Backend) error {
	p.mu.Lock()
	s := p.services[key]
	p.mu.Unlock()
	if s == nil {
		return fmt.Errorf("port %s is not published: %w", key, errdefs.ErrNotFound)
	}
	s.setBackends(backends)
	return nil
}

// Unpublish stops serving a port and releases it.
func (p *Proxy) Unpublish(key Key) error {
	p.mu.Lock()
	s := p.services[key]
	delete(p.services, key)
	p.mu.Unlock()
	if s == nil {
		return fmt.Errorf("port %s is not published: %w", key, errdefs.ErrNotFound)
	}
	s.close()
	p.log.Info("proxy: unpublished", "service", s.name, "port", key.String())
	return nil
}

// Services returns every published port with its backends' counters,
// sorted by service name then port.
func (p *Proxy) Services() []models.ServiceStats {
	p.mu.Lock()
	out := make([]models.ServiceStats, 0, len(p.services))
	for k, s := range p.services {
		out = append(out, s.stats(k))
	}
	p.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].HostPort < out[j].HostPort
	})
	return out
}

// Close unpublishes everything.
func (p *Proxy) Close() error {
	p.mu.Lock()
	all := p.services
	p.services = map[Key]*service{}
	p.mu.Unlock()
	for _, s := range all {
		s.close()
	}
	return nil
}

// wire is the protocol on the wire ("http" is tcp).
func wire(proto string) string {
	if proto == "udp" {
		return "udp"
	}
	return "tcp"
}

func sameFamily(a, b string) bool { return wire(a) == wire(b) }

// overlaps reports whether two bind addresses can clash: equal, or either all addresses.
func overlaps(a, b string) bool {
	return a == b || a == "" || b == "" || a == "0.0.0.0" || b == "0.0.0.0" || a == "::" || b == "::"
}

// bindError explains a failed bind; a port in use names its holder.
func bindError(name string, k Key, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		who := "another process"
		if h, ok := PortHolder(wire(k.Protocol), k.HostPort); ok {
			who = fmt.Sprintf("%s (pid %d)", h.Command, h.Pid)
		}
		return fmt.Errorf("host port %d/%s is already in use by %s: pick another host port or stop it: %w",
			k.HostPort, wire(k.Protocol), who, errdefs.ErrConflict)
	}
	if errors.Is(err, syscall.EADDRNOTAVAIL) {
		return fmt.Errorf("publish %s on %s: the host has no address %s: %w", name, k, k.HostIP, errdefs.ErrInvalid)
	}
	return fmt.Errorf("publish %s on %s: %w", name, k, err)
}
