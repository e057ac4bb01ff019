package identity

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// node is one test node: its identity and trust store.
type node struct {
	id    *Identity
	store *TrustStore
}

func newNode(t *testing.T, name string) node {
	t.Helper()
	dir := t.TempDir()
	id, err := Load(dir, LoadOptions{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return node{id: id, store: openStore(t, dir, TrustStoreOptions{})}
}

// payload is what the server writes as soon as its handshake completes.
var payload = []byte("volume data that only trusted nodes may read\n")

// serverResult is the server side of one connection.
type serverResult struct {
	err   error
	state tls.ConnectionState
}

// serveOnce listens on loopback, accepts one connection, completes the
// handshake, writes payload and closes. It returns the address and the
// server side's outcome.
func serveOnce(t *testing.T, cfg *tls.Config) (string, <-chan serverResult) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	res := make(chan serverResult, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			res <- serverResult{err: err}
			return
		}
		defer raw.Close()
		conn := tls.Server(raw, cfg)
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if err := conn.Handshake(); err != nil {
			res <- serverResult{err: err}
			return
		}
		_, err = conn.Write(payload)
		res <- serverResult{err: err, state: conn.ConnectionState()}
		_ = conn.Close()
	}()
	return ln.Addr().String(), res
}

// dial connects to addr with cfg and reads everything the server sends.
func dial(t *testing.T, addr string, cfg *tls.Config) (tls.ConnectionState, []byte, error) {
	t.Helper()
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	conn := tls.Client(raw, cfg)
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := conn.HandshakeContext(t.Context()); err != nil {
		return conn.ConnectionState(), nil, err
	}
	got, err := io.ReadAll(conn)
	return conn.ConnectionState(), got, err
}

func serverOutcome(t *testing.T, res <-chan serverResult) serverResult {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("server did not finish")
	}
	return serverResult{}
}

func TestHandshakeBetweenTrustedNodes(t *testing.T) {
	a, b := newNode(t, "attic"), newNode(t, "basement")
	if err := a.store.Trust(t.Context(), b.id.ID, "basement"); err != nil {
		t.Fatal(err)
	}
	if err := b.store.Trust(t.Context(), a.id.ID, "attic"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		server, client node
	}{
		{"attic serves basement", a, b},
		{"basement serves attic", b, a},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, res := serveOnce(t, ServerConfig(tt.server.id, tt.server.store))
			state, got, err := dial(t, addr, ClientConfig(tt.client.id, tt.server.id.ID))
			if err != nil {
				t.Fatalf("client: %v", err)
			}
			if !bytes.Equal(got, payload) {
				t.Fatalf("client read %q, want the payload", got)
			}
			srv := serverOutcome(t, res)
			if srv.err != nil {
				t.Fatalf("server: %v", srv.err)
			}
			if state.Version != tls.VersionTLS13 || srv.state.Version != tls.VersionTLS13 {
				t.Fatalf("negotiated %s/%s, want TLS 1.3", tls.VersionName(state.Version), tls.VersionName(srv.state.Version))
			}
			if PeerID(state) != tt.server.id.ID || PeerID(srv.state) != tt.client.id.ID {
				t.Fatalf("client sees %v (want %v), server sees %v (want %v)",
					PeerID(state), tt.server.id.ID, PeerID(srv.state), tt.client.id.ID)
			}
			if l := list(t, tt.server.store); len(l.Pending) != 0 {
				t.Fatalf("a trusted connection left a pending request: %+v", l.Pending)
			}
		})
	}
}

func TestUntrustedClientGetsNothing(t *testing.T) {
	a, stranger := newNode(t, "attic"), newNode(t, "stranger\x1b[2J")
	for attempt := 1; attempt <= 2; attempt++ {
		addr, res := serveOnce(t, ServerConfig(a.id, a.store))
		_, got, err := dial(t, addr, ClientConfig(stranger.id, a.id.ID))
		if err == nil || len(got) != 0 {
			t.Fatalf("attempt %d: untrusted client read %q, err %v; want an error and no bytes", attempt, got, err)
		}
		if !strings.Contains(err.Error(), "bad certificate") {
			t.Errorf("client error %q does not name the refusal", err)
		}
		srv := serverOutcome(t, res)
		if !errors.Is(srv.err, ErrUntrusted) {
			t.Fatalf("server handshake error = %v, want ErrUntrusted", srv.err)
		}
		l := list(t, a.store)
		if len(l.Pending) != 1 {
			t.Fatalf("pending = %+v, want one request", l.Pending)
		}
		p := l.Pending[0]
		// The second attempt comes within a minute from the same host:
		// refused, but not written again.
		if p.ID != stranger.id.ID.String() || p.Name != "stranger[2J" || p.Count != 1 || !strings.HasPrefix(p.Address, "127.0.0.1:") {
			t.Fatalf("attempt %d: pending = %+v", attempt, p)
		}
	}
	// Approving the request lets the same client in.
	if err := a.store.Trust(t.Context(), stranger.id.ID, ""); err != nil {
		t.Fatal(err)
	}
	addr, res := serveOnce(t, ServerConfig(a.id, a.store))
	if _, got, err := dial(t, addr, ClientConfig(stranger.id, a.id.ID)); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("after trust add: read %q, %v", got, err)
	}
	if srv := serverOutcome(t, res); srv.err != nil {
		t.Fatal(srv.err)
	}
}

// TestUntrustTakesEffect: another process's `trust rm` (a second store on
// the same directory) locks the node out of the next handshake.
func TestUntrustTakesEffect(t *testing.T) {
	a, b := newNode(t, "attic"), newNode(t, "basement")
	cli := openStore(t, a.id.Dir+"/..", TrustStoreOptions{})
	if err := cli.Trust(t.Context(), b.id.ID, ""); err != nil {
		t.Fatal(err)
	}
	addr, res := serveOnce(t, ServerConfig(a.id, a.store))
	if _, got, err := dial(t, addr, ClientConfig(b.id, a.id.ID)); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("trusted: read %q, %v", got, err)
	}
	serverOutcome(t, res)
	if err := cli.Untrust(t.Context(), b.id.ID); err != nil {
		t.Fatal(err)
	}
	addr, res = serveOnce(t, ServerConfig(a.id, a.store))
	if _, got, err := dial(t, addr, ClientConfig(b.id, a.id.ID)); err == nil || len(got) != 0 {
		t.Fatalf("after untrust: read %q, %v", got, err)
	}
	if srv := serverOutcome(t, res); !errors.Is(srv.err, ErrUntrusted) {
		t.Fatalf("server: %v, want ErrUntrusted", srv.err)
	}
}

func TestDeniedClientIsRefusedQuietly(t *testing.T) {
	a, stranger := newNode(t, "attic"), newNode(t, "stranger")
	if err := a.store.Deny(t.Context(), stranger.id.ID); err != nil {
		t.Fatal(err)
	}
	addr, res := serveOnce(t, ServerConfig(a.id, a.store))
	if _, got, err := dial(t, addr, ClientConfig(stranger.id, a.id.ID)); err == nil || len(got) != 0 {
		t.Fatalf("denied client read %q, %v", got, err)
	}
	if srv := serverOutcome(t, res); !errors.Is(srv.err, ErrUntrusted) {
		t.Fatalf("server: %v, want ErrUntrusted", srv.err)
	}
	if l := list(t, a.store); len(l.Pending) != 0 || len(l.Denied) != 1 {
		t.Fatalf("after a denied attempt: %+v", l)
	}
}

func TestClientRejectsWrongServer(t *testing.T) {
	a, b, impostor := newNode(t, "attic"), newNode(t, "basement"), newNode(t, "attic")
	if err := impostor.store.Trust(t.Context(), b.id.ID, ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		expect ID
	}{
		{"another node's certificate", a.id.ID},
		{"no expected ID", ID{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, res := serveOnce(t, ServerConfig(impostor.id, impostor.store))
			_, got, err := dial(t, addr, ClientConfig(b.id, tt.expect))
			if !errors.Is(err, ErrPeerMismatch) || len(got) != 0 {
				t.Fatalf("client: read %q, %v; want ErrPeerMismatch", got, err)
			}
			if srv := serverOutcome(t, res); srv.err == nil {
				t.Fatal("server completed a handshake the client refused")
			}
		})
	}
}

func TestServerRefusesWeakClients(t *testing.T) {
	a, b := newNode(t, "attic"), newNode(t, "basement")
	if err := a.store.Trust(t.Context(), b.id.ID, ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  *tls.Config
	}{
		{"TLS 1.2 with a CBC suite", &tls.Config{
			Certificates: []tls.Certificate{b.id.Certificate}, InsecureSkipVerify: true,
			MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA},
		}},
		{"TLS 1.2 with an AEAD suite", &tls.Config{
			Certificates: []tls.Certificate{b.id.Certificate}, InsecureSkipVerify: true,
			MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		}},
		{"no client certificate", &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, res := serveOnce(t, ServerConfig(a.id, a.store))
			_, got, err := dial(t, addr, tt.cfg)
			if err == nil || len(got) != 0 {
				t.Fatalf("client read %q, %v; want refusal", got, err)
			}
			if srv := serverOutcome(t, res); srv.err == nil {
				t.Fatal("server completed the handshake")
			}
			if l := list(t, a.store); len(l.Pending) != 0 {
				t.Fatalf("refused weak client left a pending request: %+v", l.Pending)
			}
		})
	}
}

// TestServerConfigFallbackVerifies: the base config verifies even when a
// caller drops GetConfigForClient.
func TestServerConfigFallbackVerifies(t *testing.T) {
	a, stranger := newNode(t, "attic"), newNode(t, "stranger")
	cfg := ServerConfig(a.id, a.store)
	cfg.GetConfigForClient = nil
	addr, res := serveOnce(t, cfg)
	if _, got, err := dial(t, addr, ClientConfig(stranger.id, a.id.ID)); err == nil || len(got) != 0 {
		t.Fatalf("read %q, %v", got, err)
	}
	if srv := serverOutcome(t, res); !errors.Is(srv.err, ErrUntrusted) {
		t.Fatalf("server: %v", srv.err)
	}
	if l := list(t, a.store); len(l.Pending) != 1 || l.Pending[0].Address != "" {
		t.Fatalf("pending = %+v, want one without an address", l.Pending)
	}
}

func TestPeerIDWithoutCertificate(t *testing.T) {
	if id := PeerID(tls.ConnectionState{}); !id.IsZero() {
		t.Fatalf("PeerID(no certificates) = %v", id)
	}
}

// TestRefusalIsLogged: a new request is a warning naming the ID and the
// command that approves it; a repeat moments later is a debug line.
func TestRefusalIsLogged(t *testing.T) {
	var buf syncBuffer
	dir := t.TempDir()
	a := node{id: newNode(t, "attic").id}
	a.store = openStore(t, dir, TrustStoreOptions{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	stranger := newNode(t, "stranger")
	for range 2 {
		addr, res := serveOnce(t, ServerConfig(a.id, a.store))
		_, _, _ = dial(t, addr, ClientConfig(stranger.id, a.id.ID))
		serverOutcome(t, res)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("logged %d lines, want 2:\n%s", len(lines), buf.String())
	}
	want := "budgie trust add " + stranger.id.ID.String()
	if !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], want) || !strings.Contains(lines[0], "addr=127.0.0.1:") {
		t.Errorf("first refusal logged as %q, want a warning with %q and the address", lines[0], want)
	}
	if !strings.Contains(lines[1], "level=DEBUG") || !strings.Contains(lines[1], "again") {
		t.Errorf("second refusal logged as %q, want a debug line", lines[1])
	}
}

// syncBuffer is a bytes.Buffer safe for the server goroutine's writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
