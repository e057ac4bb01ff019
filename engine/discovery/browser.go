package discovery

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/mdns"

	"github.com/budgie-sh/budgie/models"
)

// Defaults of the browser's timing.
const (
	// DefaultInterval is the length of one query round.
	DefaultInterval = time.Second
	// DefaultExpiry is how long an entry lives without being seen again:
	// two and a half rounds, so that two lost answers in a row are
	// tolerated and a stopped container disappears 2–3 s after its last answer.
	DefaultExpiry = 2500 * time.Millisecond
)

// entryBuffer is the capacity of the channel the library delivers entries
// on; it drops entries when the channel is full, so it is large and drained
// by its own goroutine.
const entryBuffer = 1024

// BrowserOptions configure a Browser.
type BrowserOptions struct {
	// Self is this node's ID; its entries are marked Local.
	Self string
	// Interfaces are queried each round; required.
	Interfaces []net.Interface
	// Interval is the length of one round; zero means DefaultInterval.
	Interval time.Duration
	// Expiry drops entries not seen for longer; zero means DefaultExpiry.
	Expiry time.Duration
	// Log receives ignored records (at debug level) and query failures;
	// nil means none.
	Log *slog.Logger
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// Browser keeps the table of Budgie announcements on the LAN: it queries
// every interface in back-to-back rounds, listening between queries for
// unsolicited announcements, and expires entries after each round.
type Browser struct {
	opts    BrowserOptions
	mu      sync.Mutex
	table   *table
	subs    map[chan models.PeerEvent]struct{}
	ignored atomic.Int64
	rounds  atomic.Int64
}

// NewBrowser returns a browser; Run starts it.
func NewBrowser(opts BrowserOptions) *Browser {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Expiry <= 0 {
		opts.Expiry = DefaultExpiry
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Browser{opts: opts, table: newTable(opts.Self, opts.Expiry), subs: map[chan models.PeerEvent]struct{}{}}
}

// Run queries in rounds until ctx ends, then returns nil.
func (b *Browser) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		start := time.Now()
		if !b.Round(ctx, b.opts.Interval) {
			// No interface could query (no multicast yet, say): do not spin.
			select {
			case <-ctx.Done():
			case <-time.After(time.Until(start.Add(b.opts.Interval))):
			}
		}
		b.expire()
	}
	return nil
}

// Round queries every interface once and listens for d; it reports whether
// any interface could query. Entries seen update the table (and notify
// subscribers) as they arrive; Round does not expire anything.
func (b *Browser) Round(ctx context.Context, d time.Duration) bool {
	var wg sync.WaitGroup
	var ok atomic.Bool
	for i := range b.opts.Interfaces {
		ifi := b.opts.Interfaces[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.query(ctx, &ifi, d); err != nil {
				b.opts.Log.Warn("mdns query failed", "interface", ifi.Name, "err", err)
				return
			}
			ok.Store(true)
		}()
	}
	wg.Wait()
	b.rounds.Add(1)
	return ok.Load()
}

// query runs one library query on ifi, feeding the table.
func (b *Browser) query(ctx context.Context, ifi *net.Interface, d time.Duration) error {
	entries := make(chan *mdns.ServiceEntry, entryBuffer)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for e := range entries {
			b.handle(ifi.Name, e)
		}
	}()
	err := mdns.QueryContext(ctx, &mdns.QueryParam{
		Service: ServiceType, Domain: "local", Timeout: d, Interface: ifi, Entries: entries,
		DisableIPv6: true, Logger: libraryLogger(b.opts.Log),
	})
	close(entries)
	<-drained
	return err
}

// instanceSuffix is what the name of every instance of our service ends in.
var instanceSuffix = "." + ServiceType + "." + Domain

// handle validates one entry and records it.
func (b *Browser) handle(iface string, e *mdns.ServiceEntry) {
	instance, ok := strings.CutSuffix(e.Name, instanceSuffix)
	if !ok || instance == "" || strings.Contains(instance, ".") {
		b.ignore(iface, e, "not an instance of "+ServiceType)
		return
	}
	a, err := ParseTXT(e.InfoFields)
	if err != nil {
		b.ignore(iface, e, err.Error())
		return
	}
	if a.Instance() != instance {
		b.ignore(iface, e, "instance name does not match its TXT record")
		return
	}
	if e.AddrV4 == nil {
		b.ignore(iface, e, "no IPv4 address")
		return
	}
	b.observe(a, e.AddrV4.String())
}

func (b *Browser) ignore(iface string, e *mdns.ServiceEntry, why string) {
	b.ignored.Add(1)
	b.opts.Log.Debug("ignored mdns record", "interface", iface, "name", clip(e.Name), "why", why)
}

func (b *Browser) observe(a Announcement, addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.publish(b.table.observe(a, addr, b.opts.Clock()))
}

func (b *Browser) expire() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.publish(b.table.expire(b.opts.Clock()))
}

// publish sends evs to every subscriber, dropping them for one that lags;
// the caller holds b.mu.
func (b *Browser) publish(evs []models.PeerEvent) {
	for _, ev := range evs {
		for ch := range b.subs {
			select {
			case ch <- ev:
			default:
			}
		}
	}
}

// Subscribe returns a channel of changes to the table (buffered; a
// subscriber that lags loses events) and a function that ends the
// subscription.
func (b *Browser) Subscribe() (<-chan models.PeerEvent, func()) {
	ch := make(chan models.PeerEvent, 1024)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
	}
}

// Nodes returns the table grouped by node, local node first.
func (b *Browser) Nodes() []models.PeerNode {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.table.snapshot()
}

// Peers returns every announced container, sorted by node and name.
func (b *Browser) Peers() []models.Peer {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.table.list()
}

// Ignored counts the records ignored so far (foreign or malformed).
func (b *Browser) Ignored() int64 { return b.ignored.Load() }

// Rounds counts the rounds completed so far.
func (b *Browser) Rounds() int64 { return b.rounds.Load() }

// BrowseOptions tune Browse.
type BrowseOptions struct {
	// Interfaces are queried; empty means every usable one (see Interfaces).
	Interfaces []string
	// Timeout is how long Browse listens; zero means 2 s. It is spent in
	// two rounds, so that one lost answer does not hide a container.
	Timeout time.Duration
	// Self marks this node's entries Local; empty marks none.
	Self string
	// Log receives ignored records at debug level; nil means none.
	Log *slog.Logger
}

// Browse queries the LAN once, for opts.Timeout, and returns what answered,
// grouped by node.
func Browse(ctx context.Context, opts BrowseOptions) ([]models.PeerNode, error) {
	ifaces, err := Interfaces(opts.Interfaces)
	if err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	b := NewBrowser(BrowserOptions{Self: opts.Self, Interfaces: ifaces, Expiry: time.Hour, Log: opts.Log})
	for i := 0; i < 2 && ctx.Err() == nil; i++ {
		b.Round(ctx, timeout/2)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b.Nodes(), nil
}

// libraryLogger turns the library's log lines into debug records.
func libraryLogger(l *slog.Logger) *log.Logger {
	return log.New(logWriter{l}, "", 0)
}

type logWriter struct{ l *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.Debug("mdns", "msg", strings.TrimSpace(string(p)))
	return len(p), nil
}
