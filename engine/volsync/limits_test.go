package volsync

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// rawSession dials addr with the test client's certificate and says hello.
func rawSession(t *testing.T, addr string) (net.Conn, *frameReader, *frameWriter) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, clientTLS(t))
	mustDo(t, err)
	t.Cleanup(func() { conn.Close() })
	fr, fw := newFrameReader(conn, 0), newFrameWriter(conn)
	var e enc
	e.raw([]byte(magic))
	e.u16(ProtocolVersion)
	mustDo(t, fw.write(msgHello, e.b))
	mustDo(t, fw.flush())
	if typ, _, err := fr.next(); err != nil || typ != msgWelcome {
		t.Fatalf("hello: 0x%02x, %v", typ, err)
	}
	return conn, fr, fw
}

func TestIndexPrefixFlood(t *testing.T) {
	prim := t.TempDir()
	writeFile(t, filepath.Join(prim, "f"), []byte("x"), 0o644)
	addr := startServer(t, map[string]string{"data": prim, "secret": prim}, nil)
	var e enc
	for i := range 20000 {
		e.str(fmt.Sprintf("dir%05d/sub", i))
	}
	tests := []struct {
		volume string
		code   byte
	}{
		{"secret", codeDenied}, // not authorized: refused before the paths are looked at
		{"data", codeInvalid},  // authorized: over the cap of 1024 paths
	}
	for _, tt := range tests {
		t.Run(tt.volume, func(t *testing.T) {
			conn, fr, fw := rawSession(t, addr)
			var req enc
			req.str(tt.volume)
			req.u32(20000)
			req.raw(e.b)
			start := time.Now()
			conn.SetDeadline(start.Add(3 * time.Second))
			mustDo(t, fw.write(msgIndex, req.b))
			mustDo(t, fw.flush())
			typ, p, err := fr.next()
			if err != nil {
				t.Fatalf("no answer to 20,000 prefixes within 3 s: %v", err)
			}
			if typ != msgError || len(p) == 0 || p[0] != tt.code {
				t.Fatalf("answer 0x%02x %q, want error code %d", typ, p, tt.code)
			}
			t.Logf("refused in %v", time.Since(start))
		})
	}
}

// naivePrefixes is the old quadratic normalization, kept as a reference.
func naivePrefixes(ps []string) []string {
	var kept []string
	for _, p := range ps {
		covered := false
		for _, q := range ps {
			if q != p && underPrefix(p, q) || slices.Contains(kept, p) {
				covered = true
				break
			}
		}
		if !covered {
			kept = append(kept, p)
		}
	}
	slices.Sort(kept)
	return kept
}

func TestNormPrefixes(t *testing.T) {
	tests := []struct {
		in, want []string
	}{
		{nil, nil},
		{[]string{"a", "a"}, []string{"a"}},
		{[]string{"a/b", "a", "a-b", "a/b/c"}, []string{"a", "a-b"}},
		{[]string{"a-b/c", "a/b", "a-b"}, []string{"a-b", "a/b"}},
		{[]string{"x", "."}, nil},
	}
	for _, tt := range tests {
		got, err := normPrefixes(tt.in)
		slices.Sort(got)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("normPrefixes(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	parts := []string{"a", "b", "a-b", "a.b", "ab", "a b"}
	for range 2000 {
		var in []string
		for range 1 + r.IntN(8) {
			var els []string
			for range 1 + r.IntN(3) {
				els = append(els, parts[r.IntN(len(parts))])
			}
			in = append(in, strings.Join(els, "/"))
		}
		got, err := normPrefixes(in)
		slices.Sort(got)
		if want := naivePrefixes(in); err != nil || !slices.Equal(got, want) {
			t.Fatalf("normPrefixes(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestSyncTooManyPaths(t *testing.T) {
	prim := t.TempDir()
	c := dial(t, startServer(t, map[string]string{"data": prim}, nil), nil)
	var paths []string
	for i := range maxPrefixes + 1 {
		paths = append(paths, fmt.Sprintf("p%d", i))
	}
	if _, err := c.Sync(t.Context(), "data", t.TempDir(), SyncOptions{Paths: paths}); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("Sync of %d paths = %v, want ErrInvalid", len(paths), err)
	}
	if _, err := c.Sync(t.Context(), "data", t.TempDir(), SyncOptions{Paths: paths[:maxPrefixes]}); err != nil {
		t.Fatalf("Sync of %d paths: %v", maxPrefixes, err)
	}
}

// logBuffer collects log lines from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

// dialFrom opens a TCP connection to addr from the loopback address src.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	mustDo(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin reports whether the server closes c within d (a read ends
// in EOF or a reset rather than the deadline).
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

func TestConnectionCaps(t *testing.T) {
	prim := t.TempDir()
	writeFile(t, filepath.Join(prim, "f"), []byte("x"), 0o644)
	logs := &logBuffer{}
	addr := startServer(t, map[string]string{"data": prim}, func(o *ServerOptions) {
		o.MaxConns, o.MaxConnsPerIP = 4, 2
		o.HandshakeTimeout = 3 * time.Second
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	// Two silent connections from one address take its share...
	slow := []net.Conn{dialFrom(t, "127.0.0.2", addr), dialFrom(t, "127.0.0.2", addr)}
	time.Sleep(100 * time.Millisecond)
	// ...so further ones from there are closed at once, and logged once.
	for i := range 10 {
		if c := dialFrom(t, "127.0.0.2", addr); !closedWithin(c, time.Second) {
			t.Fatalf("connection %d over the per-address cap was not closed at once", i+3)
		}
	}
	if n := logs.count("too many connections"); n != 1 {
		t.Fatalf("10 refused connections logged %d times, want once", n)
	}
	// Others still get through.
	c := dial(t, addr, nil)
	if _, err := c.Sync(t.Context(), "data", t.TempDir(), SyncOptions{}); err != nil {
		t.Fatalf("a replica was kept out by silent connections from elsewhere: %v", err)
	}
	// The global cap: one more from a third address fills it.
	dialFrom(t, "127.0.0.3", addr)
	time.Sleep(100 * time.Millisecond)
	if extra := dialFrom(t, "127.0.0.4", addr); !closedWithin(extra, time.Second) {
		t.Fatal("a connection over the global cap was not closed at once")
	}
	// The silent ones are cut at the handshake deadline.
	for _, s := range slow {
		if !closedWithin(s, 5*time.Second) {
			t.Fatal("a connection that never handshakes was kept past the deadline")
		}
	}
}

func TestHandshakeAndIdleDeadlines(t *testing.T) {
	prim := t.TempDir()
	addr := startServer(t, map[string]string{"data": prim}, func(o *ServerOptions) {
		o.HandshakeTimeout = 300 * time.Millisecond
		o.IdleTimeout = 300 * time.Millisecond
	})
	t.Run("no tls handshake", func(t *testing.T) {
		if !closedWithin(dialFrom(t, "127.0.0.1", addr), 3*time.Second) {
			t.Fatal("kept a connection that never started its handshake")
		}
	})
	t.Run("tls but no hello", func(t *testing.T) {
		conn, err := tls.Dial("tcp", addr, clientTLS(t))
		mustDo(t, err)
		defer conn.Close()
		if !closedWithin(conn, 3*time.Second) {
			t.Fatal("kept a connection that never said hello")
		}
	})
	t.Run("idle session", func(t *testing.T) {
		c := dial(t, addr, nil)
		time.Sleep(time.Second)
		if _, err := c.Meta(t.Context(), "k"); err == nil || errors.Is(err, errdefs.ErrNotFound) {
			t.Fatalf("an idle session was kept open: Meta = %v", err)
		}
	})
}

func TestRevokedSubscriptionEnds(t *testing.T) {
	base := t.TempDir()
	prim, repl := filepath.Join(base, "primary"), filepath.Join(base, "replica")
	writeFile(t, filepath.Join(prim, "one.txt"), []byte("one"), 0o644)
	var revoked atomic.Bool
	want := fingerprint(getCerts(t).client)
	addr := startServer(t, map[string]string{"data": prim}, func(o *ServerOptions) {
		o.Authorize = func(p PeerInfo, v string) bool { return p.Fingerprint == want && !revoked.Load() }
		o.Changes = PollSource{Interval: 50 * time.Millisecond}
		o.Debounce = 50 * time.Millisecond
	})
	c := dial(t, addr, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	synced := make(chan struct{}, 100)
	done := make(chan error, 1)
	go func() {
		done <- c.Subscribe(ctx, "data", repl, SubscribeOptions{OnSync: func(Stats, error) { synced <- struct{}{} }})
	}()
	<-synced
	revoked.Store(true)
	writeFile(t, filepath.Join(prim, "two.txt"), []byte("two"), 0o644)
	select {
	case err := <-done:
		if err == nil || ctx.Err() != nil {
			t.Fatalf("Subscribe = %v, want the connection closed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a revoked peer's subscription went on")
	}
	if _, err := os.Lstat(filepath.Join(repl, "two.txt")); !os.IsNotExist(err) {
		t.Fatalf("a change made after the revocation reached the replica: %v", err)
	}
}

func TestIndexEntryCap(t *testing.T) {
	var entries []Entry
	for i := range 11 {
		entries = append(entries, fileEntry(fmt.Sprintf("f%02d", i), []byte("hello")))
	}
	addr := hostileServer(t, entries, func(uint32) []byte { return []byte("hello") }, nil)
	raw, err := net.Dial("tcp", addr)
	mustDo(t, err)
	c, err := Dial(t.Context(), tls.Client(raw, clientTLS(t)), ClientOptions{MaxIndexEntries: 10})
	mustDo(t, err)
	defer c.Close()
	if _, err := c.Sync(t.Context(), "data", t.TempDir(), SyncOptions{}); !errors.Is(err, ErrProtocol) {
		t.Fatalf("an index of 11 entries with a cap of 10: %v, want a protocol error", err)
	}
}

func TestChangeQueueIsBounded(t *testing.T) {
	c := &Client{}
	for i := range 5000 {
		c.queueChange(Change{Paths: []string{fmt.Sprintf("p%d", i)}})
	}
	ch, ok := c.takeChanges()
	if !ok || !ch.Rescan || len(ch.Paths) != 0 {
		t.Fatalf("5,000 queued notifications = rescan %v with %d paths, want one rescan", ch.Rescan, len(ch.Paths))
	}
	c.queueChange(Change{Paths: []string{"a"}})
	c.queueChange(Change{Paths: []string{"b"}})
	if ch, _ := c.takeChanges(); ch.Rescan || !slices.Equal(ch.Paths, []string{"a", "b"}) {
		t.Fatalf("two notifications merged to %+v", ch)
	}
	if _, ok := c.takeChanges(); ok {
		t.Fatal("the queue was not emptied")
	}
}

func TestNonUTF8Names(t *testing.T) {
	base := t.TempDir()
	prim, repl := filepath.Join(base, "primary"), filepath.Join(base, "replica")
	writeFile(t, filepath.Join(prim, "caf\xe9.txt"), []byte("latin-1"), 0o644)
	writeFile(t, filepath.Join(prim, "d\xe9j\xe0", "x\xff.bin"), randBytes(t, 200<<10), 0o600)
	writeFile(t, filepath.Join(prim, "plain.txt"), []byte("utf-8"), 0o644)
	mustDo(t, os.Symlink("caf\xe9.txt", filepath.Join(prim, "l\xe9")))
	c := dial(t, startServer(t, map[string]string{"data": prim}, nil), nil)
	if _, err := c.Sync(t.Context(), "data", repl, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	assertSameTree(t, prim, repl)
	// And a partial sync by such a name.
	writeFile(t, filepath.Join(prim, "caf\xe9.txt"), []byte("latin-1, edited"), 0o644)
	if _, err := c.Sync(t.Context(), "data", repl, SyncOptions{Paths: []string{"caf\xe9.txt"}}); err != nil {
		t.Fatal(err)
	}
	assertSameTree(t, prim, repl)
}

func TestCheckPath(t *testing.T) {
	tests := []struct {
		p  string
		ok bool
	}{
		{"caf\xe9.txt", true}, {"a/b\xff/c", true}, {strings.Repeat("n", 255), true},
		{strings.Repeat("n", 256), false}, {strings.Repeat("a/", 2048) + "a", false},
		{"", false}, {"/a", false}, {"a/", false}, {"a//b", false}, {".", false}, {"..", false},
		{"a/../b", false}, {"a/./b", false}, {"a\x00b", false}, {"d/" + InternalPrefix + "x", false},
	}
	for _, tt := range tests {
		if err := checkPath(tt.p); (err == nil) != tt.ok {
			t.Errorf("checkPath(%q) = %v, want ok=%v", tt.p, err, tt.ok)
		}
	}
}
