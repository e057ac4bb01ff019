package volsync

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// ClientOptions configures a Client.
type ClientOptions struct {
	// Logger receives rejected paths and other warnings; nil discards them.
	Logger *slog.Logger
	// MaxFrame caps incoming frame payloads; 0 means DefaultMaxFrame.
	MaxFrame int
	// MaxIndexEntries caps the entries of one index from the primary (a
	// longer index is a protocol error); 0 means DefaultMaxIndexEntries.
	MaxIndexEntries int
	// IdleTimeout is how long a read may wait for the primary while an
	// operation (Sync, Plan, Meta) runs: a primary that sends nothing for
	// that long is taken as stalled, and the operation fails and breaks the
	// connection. 0 means DefaultClientIdleTimeout; a negative value waits as
	// long as the operation's context allows. Waiting for change
	// notifications (Subscribe between syncs) has no such limit.
	IdleTimeout time.Duration
}

// DefaultMaxIndexEntries is the largest index a Client accepts by default:
// two million entries, about 1 GiB of memory while a sync runs (the entries
// with their block hashes, the diff's maps and the plans).
const DefaultMaxIndexEntries = 2_000_000

// Client is the replica side of a sync connection. Its methods run one at a
// time; a Client whose connection broke returns the same error from then on.
type Client struct {
	conn  net.Conn
	clock *readClock // reads of conn, with deadlines
	log   *slog.Logger
	mu    sync.Mutex // one operation at a time
	fr    *frameReader
	wmu   sync.Mutex // guards fw (requests are sent from a goroutine)
	fw    *frameWriter
	cache hashCache

	maxEntries int

	pmu     sync.Mutex
	pending Change // notifications set aside, merged (see queueChange)
	queued  bool   // pending holds at least one notification
	broken  error

	// hook is a test hook: nil outside tests, where it observes the steps
	// of a sync (see syncEvent), called from several goroutines.
	hook func(ev syncEvent, path string)
	// planBudget, when set, replaces maxPlannedBytes (tests).
	planBudget int64
}

// event reports a step of a sync to the test hook.
func (c *Client) event(ev syncEvent, path string) {
	if c.hook != nil {
		c.hook(ev, path)
	}
}

// DialTLS connects to a primary at addr with cfg and opens a Client.
func DialTLS(ctx context.Context, addr string, cfg *tls.Config, opts ClientOptions) (*Client, error) {
	d := tls.Dialer{Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to primary %s (is its keeper running?): %w: %w", addr, errdefs.ErrUnavailable, err)
	}
	c, err := Dial(ctx, conn, opts)
	if err != nil {
		conn.Close()
	}
	return c, err
}

// Dial opens a Client on an established connection (usually a *tls.Conn,
// which is handshaken first) and exchanges protocol versions. The Client
// owns conn from then on; Close closes it.
func Dial(ctx context.Context, conn net.Conn, opts ClientOptions) (*Client, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	idle := opts.IdleTimeout
	if idle == 0 {
		idle = DefaultClientIdleTimeout
	}
	clock := &readClock{conn: conn, idle: idle}
	c := &Client{conn: conn, clock: clock, log: log, fr: newFrameReader(clock, opts.MaxFrame), fw: newFrameWriter(conn), maxEntries: opts.MaxIndexEntries}
	if c.maxEntries <= 0 {
		c.maxEntries = DefaultMaxIndexEntries
	}
	if tc, ok := conn.(*tls.Conn); ok {
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("tls handshake with primary %s: %w: %w", conn.RemoteAddr(), errdefs.ErrUnavailable, err)
		}
	}
	stop := c.watch(ctx)
	defer stop()
	var e enc
	e.raw([]byte(magic))
	e.u16(ProtocolVersion)
	if err := c.sendFlush(msgHello, e.b); err != nil {
		return nil, c.fail(ctx, fmt.Errorf("send hello: %w", err))
	}
	p, err := c.expect(msgWelcome)
	if err != nil {
		return nil, c.fail(ctx, fmt.Errorf("sync handshake: %w", err))
	}
	d := dec{b: p}
	if v := d.u16(); d.done() != nil || v != ProtocolVersion {
		return nil, c.fail(ctx, protoErr("primary answered with protocol version %d, want %d (%s)", v, ProtocolVersion, versionHint))
	}
	return c, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// watch starts an operation: blocking I/O returns when ctx ends, and a
// read fails when the primary sends nothing for the idle timeout.
func (c *Client) watch(ctx context.Context) (stop func()) {
	return c.clock.start(ctx, true)
}

// fail marks the connection broken after an I/O or protocol error.
func (c *Client) fail(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	c.breakOff(err)
	return err
}

// breakOff marks the connection broken by err, unless it already is, and
// closes it: blocked reads and writes return.
func (c *Client) breakOff(err error) {
	c.pmu.Lock()
	if c.broken == nil {
		c.broken = err
	}
	c.pmu.Unlock()
	c.conn.Close()
}

// brokenBy reports whether err is what broke the connection (the first
// error breakOff was given).
func (c *Client) brokenBy(err error) bool {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	return c.broken == err
}

// usable returns the error that broke the connection, if any.
func (c *Client) usable() error {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.broken != nil {
		return fmt.Errorf("sync connection is closed: %w", c.broken)
	}
	return nil
}

func (c *Client) send(typ byte, parts ...[]byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.fw.write(typ, parts...)
}

func (c *Client) sendFlush(typ byte, parts ...[]byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.fw.write(typ, parts...); err != nil {
		return err
	}
	return c.fw.flush()
}

func (c *Client) flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.fw.flush()
}

// recv reads the next frame that is not a change notification; those are
// queued for Subscribe.
func (c *Client) recv() (byte, []byte, error) {
	for {
		typ, p, err := c.fr.next()
		if err != nil || typ != msgChanged {
			return typ, p, err
		}
		ch, err := decodeChange(p)
		if err != nil {
			return 0, nil, err
		}
		c.queueChange(ch)
	}
}

// queueChange sets a notification aside for Subscribe, merged with the
// ones before it. The queue is bounded: past maxChangePaths paths it
// becomes a single rescan.
func (c *Client) queueChange(ch Change) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	c.queued = true
	if c.pending.Rescan || ch.Rescan || len(c.pending.Paths)+len(ch.Paths) > maxChangePaths {
		c.pending = Change{Rescan: true}
		return
	}
	c.pending.Paths = append(c.pending.Paths, ch.Paths...)
}

// takeChanges returns the notifications set aside and empties the queue.
func (c *Client) takeChanges() (Change, bool) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	ch, ok := c.pending, c.queued
	c.pending, c.queued = Change{}, false
	return ch, ok
}

// expect reads a frame of type want; an error frame becomes its error.
func (c *Client) expect(want byte) ([]byte, error) {
	typ, p, err := c.recv()
	if err != nil {
		return nil, err
	}
	if typ == want {
		return p, nil
	}
	if typ == msgError {
		return nil, &remoteError{decodeError(p)}
	}
	return nil, protoErr("expected message type 0x%02x, got 0x%02x", want, typ)
}

// remoteError is a refusal from the primary. The connection stays usable
// when the refused request was the only one in flight (an index, a
// metadata key); a refusal in the middle of the pipelined transfer breaks
// it (see stream).
type remoteError struct{ err error }

func (e *remoteError) Error() string { return e.err.Error() }
func (e *remoteError) Unwrap() error { return e.err }

// done finishes an operation: connection errors break the client, refusals
// do not.
func (c *Client) done(ctx context.Context, err error) error {
	var re *remoteError
	if err == nil || errors.As(err, &re) && !errors.Is(err, ErrProtocol) {
		return err
	}
	return c.fail(ctx, err)
}

// Meta asks the primary's MetaHandler for key.
func (c *Client) Meta(ctx context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usable(); err != nil {
		return nil, err
	}
	stop := c.watch(ctx)
	defer stop()
	var e enc
	e.str(key)
	if err := c.sendFlush(msgMeta, e.b); err != nil {
		return nil, c.done(ctx, fmt.Errorf("request metadata %q: %w", key, err))
	}
	p, err := c.expect(msgMetaReply)
	if err != nil {
		return nil, c.done(ctx, fmt.Errorf("metadata %q: %w", key, err))
	}
	return append([]byte(nil), p...), nil
}

// Plan returns the number of files and their total bytes in a volume on
// the primary: what a fresh replica would fetch.
func (c *Client) Plan(ctx context.Context, volume string) (files int, bytes int64, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usable(); err != nil {
		return 0, 0, err
	}
	stop := c.watch(ctx)
	defer stop()
	entries, _, err := c.index(volume, nil, nil)
	if err != nil {
		return 0, 0, c.done(ctx, err)
	}
	for _, en := range entries {
		if en.Kind == KindFile {
			files++
			bytes += en.Size
		}
	}
	return files, bytes, nil
}

// index fetches and validates the primary's index of volume under prefixes
// (nil: all). It returns the entries and the wire bytes they took. each,
// when set, sees every batch of entries as it arrives, decoded but not yet
// checked as a whole (unique paths, parents); its error ends the index.
func (c *Client) index(volume string, prefixes []string, each func([]Entry) error) ([]Entry, int64, error) {
	start := c.fr.bytes
	var e enc
	e.str(volume)
	e.u32(uint32(len(prefixes)))
	for _, p := range prefixes {
		e.str(p)
	}
	if err := c.sendFlush(msgIndex, e.b); err != nil {
		return nil, 0, fmt.Errorf("request index of volume %q: %w", volume, err)
	}
	var entries []Entry
	for {
		typ, p, err := c.recv()
		if err != nil {
			return nil, 0, fmt.Errorf("read index of volume %q: %w", volume, err)
		}
		switch typ {
		case msgEntries:
			batch, err := decodeEntries(p)
			if err != nil {
				return nil, 0, fmt.Errorf("index of volume %q: %w", volume, err)
			}
			if len(entries)+len(batch) > c.maxEntries {
				return nil, 0, protoErr("index of volume %q has more than %d entries", volume, c.maxEntries)
			}
			if each != nil {
				if err := each(batch); err != nil {
					return nil, 0, err
				}
			}
			entries = append(entries, batch...)
		case msgIndexEnd:
			d := dec{b: p}
			n := d.u32()
			if err := d.done(); err != nil || int(n) != len(entries) {
				return nil, 0, protoErr("index of volume %q ended after %d entries, announced %d", volume, len(entries), n)
			}
			if err := checkIndex(entries, prefixes); err != nil {
				return nil, 0, fmt.Errorf("index of volume %q: %w", volume, err)
			}
			return entries, c.fr.bytes - start, nil
		case msgError:
			return nil, 0, &remoteError{fmt.Errorf("index of volume %q: %w", volume, decodeError(p))}
		default:
			return nil, 0, protoErr("unexpected message type 0x%02x in index", typ)
		}
	}
}

// checkIndex sorts the entries and checks that paths are unique, that every
// entry's parent is a directory of the index and that, for a partial index,
// every entry is a prefix, under one or an ancestor of one.
func checkIndex(entries []Entry, prefixes []string) error {
	sortEntries(entries)
	kinds := make(map[string]Kind, len(entries))
	for i := range entries {
		en := &entries[i]
		if _, dup := kinds[en.Path]; dup {
			return protoErr("path %q appears twice", en.Path)
		}
		if par := parentOf(en.Path); par != "" && kinds[par] != KindDir {
			return protoErr("path %q is not inside a directory of the index (its parent is a %s)", en.Path, kinds[par])
		}
		if !inScope(en.Path, prefixes) && (!isAncestor(en.Path, prefixes) || en.Kind != KindDir) {
			return protoErr("path %q is outside the requested paths", en.Path)
		}
		kinds[en.Path] = en.Kind
	}
	return nil
}

// inScope reports whether p is covered by the prefixes (nil covers all).
func inScope(p string, prefixes []string) bool {
	if prefixes == nil {
		return true
	}
	for _, pre := range prefixes {
		if underPrefix(p, pre) {
			return true
		}
	}
	return false
}

// isAncestor reports whether p is a directory above one of the prefixes.
func isAncestor(p string, prefixes []string) bool {
	for _, pre := range prefixes {
		if len(pre) > len(p) && pre[len(p)] == '/' && pre[:len(p)] == p {
			return true
		}
	}
	return false
}
