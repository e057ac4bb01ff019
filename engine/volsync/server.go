package volsync

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// PeerInfo describes the authenticated peer of a connection.
type PeerInfo struct {
	// Fingerprint is the lowercase hex SHA-256 of the peer's leaf
	// certificate (DER); empty when the connection is not TLS or the peer
	// sent no certificate.
	Fingerprint string
	// Addr is the peer's network address.
	Addr string
	// Certificate is the peer's leaf certificate, nil without one.
	Certificate *x509.Certificate
}

// MetaHandler answers a metadata request for key. An error wrapping
// errdefs.ErrNotFound is reported to the client as not found.
type MetaHandler func(peer PeerInfo, key string) ([]byte, error)

// ServerOptions configures a Server.
type ServerOptions struct {
	// Volumes maps a volume name to its directory; nil serves no volumes.
	Volumes func(name string) (dir string, ok bool)
	// Authorize decides whether peer may read volume; nil refuses everything.
	Authorize func(peer PeerInfo, volume string) bool
	// Meta answers metadata requests; nil answers every key with not found.
	Meta MetaHandler
	// Changes reports changes for subscriptions; nil polls every two seconds.
	Changes ChangeSource
	// Logger receives refusals and protocol errors; nil discards them.
	Logger *slog.Logger
	// MaxFrame caps incoming frame payloads; 0 means DefaultMaxFrame.
	MaxFrame int
	// Debounce is how long change notifications are gathered before they
	// are sent; 0 means 300ms.
	Debounce time.Duration
	// HandshakeTimeout bounds the TLS handshake and the protocol hello of
	// a new connection; 0 means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a session that sends no request for this long
	// (unless it is subscribed, when waiting is its job) or does not take
	// the data sent to it for this long; 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MaxConns caps concurrent connections accepted by Serve, and
	// MaxConnsPerIP those from one remote IP; more are closed at once.
	// 0 means DefaultMaxConns and DefaultMaxConnsPerIP.
	MaxConns, MaxConnsPerIP int
}

// Server serves volumes read-only to replicas. It is safe for concurrent use.
type Server struct {
	opts  ServerOptions
	log   *slog.Logger
	cache hashCache
	lim   *connLimiter
}

// NewServer returns a server with the given options.
func NewServer(opts ServerOptions) *Server {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Changes == nil {
		opts.Changes = PollSource{Interval: 2 * time.Second}
	}
	if opts.Debounce == 0 {
		opts.Debounce = 300 * time.Millisecond
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.MaxConnsPerIP <= 0 {
		opts.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	return &Server{opts: opts, log: log, lim: newConnLimiter(opts.MaxConns, opts.MaxConnsPerIP)}
}

// Serve accepts connections on ln (usually a TLS listener) until ctx ends,
// serving each on its own goroutine. Connections over MaxConns, or over
// MaxConnsPerIP from one IP, are closed at once (and logged at most once
// a minute per IP). It closes ln and returns nil after ctx ends, or the
// accept error.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("accept sync connections: %w", err)
		}
		ip := remoteIP(c)
		if ok, logIt := s.lim.acquire(ip); !ok {
			c.Close()
			if logIt {
				s.log.Warn("sync connection refused: too many connections (logged once a minute per address)",
					"peer", ip, "max", s.opts.MaxConns, "max_per_ip", s.opts.MaxConnsPerIP)
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.lim.release(ip)
			err := s.ServeConn(ctx, c)
			if err != nil && (!errors.Is(err, errHandshake) || s.lim.shouldLog(ip)) {
				s.log.Warn("sync connection ended", "peer", c.RemoteAddr().String(), "err", err)
			}
		}()
	}
}

// ServeConn serves one connection until the peer closes it, ctx ends or the
// peer breaks the protocol. A *tls.Conn is handshaken first and the peer's
// certificate identifies it; handshake and hello must finish within
// HandshakeTimeout. The connection is closed on return; a clean close by
// the peer returns nil.
func (s *Server) ServeConn(ctx context.Context, c net.Conn) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	c.SetDeadline(time.Now().Add(s.opts.HandshakeTimeout))
	peer, err := peerInfo(ctx, c)
	if err != nil {
		return err
	}
	ss := &session{srv: s, ctx: ctx, cancel: cancel, conn: c, peer: peer, roots: map[string]*os.Root{},
		fr: newFrameReader(c, s.opts.MaxFrame), fw: newFrameWriter(timedWriter{c, s.opts.IdleTimeout})}
	defer ss.close()
	err = ss.run()
	if errors.Is(err, io.EOF) || ctx.Err() != nil {
		return nil
	}
	if errors.Is(err, ErrProtocol) {
		s.log.Warn("sync peer broke the protocol; closing", "peer", peer.Addr, "fingerprint", peer.Fingerprint, "err", err)
		ss.send(msgError, errorPayload(codeProtocol, err.Error()))
		ss.flush()
	}
	return err
}

// errHandshake marks a connection that failed its TLS handshake; those
// are logged at most once a minute per address.
var errHandshake = errors.New("tls handshake")

// peerInfo handshakes a TLS connection and describes the peer.
func peerInfo(ctx context.Context, c net.Conn) (PeerInfo, error) {
	p := PeerInfo{Addr: c.RemoteAddr().String()}
	tc, ok := c.(*tls.Conn)
	if !ok {
		return p, nil
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		return p, fmt.Errorf("%w with %s: %w", errHandshake, p.Addr, err)
	}
	if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
		sum := sha256.Sum256(certs[0].Raw)
		p.Fingerprint, p.Certificate = hex.EncodeToString(sum[:]), certs[0]
	}
	return p, nil
}

// session is the server side of one connection.
type session struct {
	srv    *Server
	ctx    context.Context
	cancel context.CancelFunc // ends the session
	conn   net.Conn
	peer   PeerInfo
	fr     *frameReader
	wmu    sync.Mutex
	fw     *frameWriter
	roots  map[string]*os.Root
	dirs   dirCache // the directory of the last file served, while requests keep coming
	subs   bool
}

func (ss *session) close() {
	ss.dirs.close()
	for _, r := range ss.roots {
		r.Close()
	}
}

// send writes one frame under the write lock.
func (ss *session) send(typ byte, parts ...[]byte) error {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	return ss.fw.write(typ, parts...)
}

func (ss *session) flush() error {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	return ss.fw.flush()
}

// run does the handshake and answers requests in order.
func (ss *session) run() error {
	typ, p, err := ss.fr.next()
	if err != nil {
		return err
	}
	if err := checkHello(typ, p); err != nil {
		return err
	}
	ss.conn.SetDeadline(time.Time{}) // the handshake is over
	var e enc
	e.u16(ProtocolVersion)
	if err := ss.send(msgWelcome, e.b); err != nil {
		return err
	}
	for {
		// Flush replies only when no further request is already buffered,
		// so pipelined requests share TLS records.
		if ss.fr.r.Buffered() == 0 {
			ss.dirs.close() // a pause: the next request walks from the root again
			if err := ss.flush(); err != nil {
				return err
			}
		}
		// A subscribed client waits for changes and may stay quiet.
		idle := time.Time{}
		if !ss.subs {
			idle = time.Now().Add(ss.srv.opts.IdleTimeout)
		}
		ss.conn.SetReadDeadline(idle)
		typ, p, err := ss.fr.next()
		if err != nil {
			return err
		}
		if err := ss.handle(typ, p); err != nil {
			return err
		}
	}
}

// checkHello validates the client's hello.
func checkHello(typ byte, p []byte) error {
	if typ != msgHello {
		return protoErr("expected hello, got message type 0x%02x", typ)
	}
	d := dec{b: p}
	m := d.take(len(magic))
	v := d.u16()
	if err := d.done(); err != nil {
		return err
	}
	if string(m) != magic {
		return protoErr("bad hello magic")
	}
	if v != ProtocolVersion {
		return protoErr("protocol version %d is not supported (this node speaks %d; %s)", v, ProtocolVersion, versionHint)
	}
	return nil
}

// handle answers one request. Request-level failures (not found, denied)
// are sent as error frames and the session goes on.
func (ss *session) handle(typ byte, p []byte) error {
	var err error
	switch typ {
	case msgMeta:
		err = ss.handleMeta(p)
	case msgIndex:
		err = ss.handleIndex(p)
	case msgBlocks:
		err = ss.handleBlocks(p)
	case msgSums:
		err = ss.handleSums(p)
	case msgSubscribe:
		err = ss.handleSubscribe(p)
	default:
		return protoErr("unexpected message type 0x%02x", typ)
	}
	var re *requestError
	if errors.As(err, &re) {
		return ss.send(msgError, errorPayload(re.code, re.msg))
	}
	return err
}

// requestError is a refusal sent back to the client.
type requestError struct {
	code byte
	msg  string
}

func (e *requestError) Error() string { return e.msg }

// volume authorizes the peer for name and opens the volume root.
func (ss *session) volume(name string) (*os.Root, error) {
	auth := ss.srv.opts.Authorize
	if auth == nil || !auth(ss.peer, name) {
		ss.srv.log.Warn("sync request refused", "peer", ss.peer.Addr, "fingerprint", ss.peer.Fingerprint, "volume", name)
		return nil, &requestError{codeDenied, fmt.Sprintf("volume %q is not shared with this node", name)}
	}
	if r, ok := ss.roots[name]; ok {
		return r, nil
	}
	var dir string
	ok := false
	if ss.srv.opts.Volumes != nil {
		dir, ok = ss.srv.opts.Volumes(name)
	}
	if !ok {
		return nil, &requestError{codeNotFound, fmt.Sprintf("no volume %q", name)}
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, &requestError{codeNotFound, fmt.Sprintf("open volume %q: %v", name, err)}
	}
	ss.roots[name] = r
	return r, nil
}

func (ss *session) handleMeta(p []byte) error {
	d := dec{b: p}
	key := d.str(maxPathLen)
	if err := d.done(); err != nil {
		return err
	}
	h := ss.srv.opts.Meta
	if h == nil {
		return &requestError{codeNotFound, fmt.Sprintf("no metadata %q", key)}
	}
	val, err := h(ss.peer, key)
	switch {
	case errors.Is(err, errdefs.ErrNotFound):
		return &requestError{codeNotFound, err.Error()}
	case errors.Is(err, ErrDenied):
		return &requestError{codeDenied, err.Error()}
	case err != nil:
		return &requestError{codeInternal, err.Error()}
	case len(val) > ss.fr.max:
		return &requestError{codeInternal, fmt.Sprintf("metadata %q is %d bytes, over the frame limit", key, len(val))}
	}
	return ss.send(msgMetaReply, val)
}
